// A menu that pops up: at the pointer (a right click), under a button, or as a sheet at
// the bottom of a phone's screen. A modal <dialog> in the top layer: ↑ ↓ Home End move
// between items, Esc or a tap outside closes it, the focus goes back where it was.

import { h, icon } from "../dom.js";

export const SHEET = "(max-width: 767.98px), (hover: none)";

let open = null; // { dialog, returnFocus }

export function closeMenu() {
  if (!open) return;
  const { dialog, returnFocus } = open;
  open = null;
  if (dialog.open) dialog.close();
  dialog.remove();
  if (returnFocus && returnFocus.isConnected) returnFocus.focus({ preventScroll: true });
}

export function menuIsOpen() {
  return Boolean(open);
}

function itemButton(item) {
  const button = h(
    "button",
    { type: "button", role: "menuitem", class: `popmenu-item${item.danger ? " is-danger" : ""}`, dataset: { item: item.id || "" } },
    item.icon ? icon(item.icon, "popmenu-icon") : null,
    h("span", { text: item.label }),
  );
  button.addEventListener("click", () => {
    closeMenu();
    item.run();
  });
  return button;
}

function moveFocus(dialog, event) {
  const items = [...dialog.querySelectorAll('[role="menuitem"]')];
  const at = items.indexOf(document.activeElement);
  let next = null;
  if (event.key === "ArrowDown") next = items[(at + 1) % items.length];
  else if (event.key === "ArrowUp") next = items[(at - 1 + items.length) % items.length];
  else if (event.key === "Home") next = items[0];
  else if (event.key === "End") next = items[items.length - 1];
  if (!next) return;
  event.preventDefault();
  next.focus();
}

/** Place the menu at (x, y) within the window, or as a bottom sheet on phones. */
function place(dialog, at) {
  if (matchMedia(SHEET).matches || !at) {
    dialog.classList.add("is-sheet");
    return;
  }
  const { width, height } = dialog.getBoundingClientRect();
  const left = Math.max(8, Math.min(at.x, innerWidth - width - 8));
  const top = at.y + height + 8 > innerHeight ? Math.max(8, at.y - height) : at.y;
  dialog.style.left = `${left}px`;
  dialog.style.top = `${top}px`;
}

/**
 * Open a menu: `items` [{id, label, icon, danger, run}], an optional `header` node above
 * them (the quick reactions), at `at` {x, y} on wide screens.
 */
export function openMenu({ label, items, header = null, at = null }) {
  closeMenu();
  const dialog = h(
    "dialog",
    { class: "popmenu", "aria-label": label },
    header,
    h("div", { class: "popmenu-items", role: "menu", "aria-label": label }, items.map(itemButton)),
  );
  dialog.addEventListener("keydown", (event) => moveFocus(dialog, event));
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    closeMenu();
  });
  // A click on the backdrop lands on the dialog itself.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) closeMenu();
  });
  open = { dialog, returnFocus: document.activeElement };
  document.body.append(dialog);
  dialog.showModal();
  place(dialog, at);
  (dialog.querySelector('[role="menuitem"]') || dialog.querySelector("button"))?.focus();
  return dialog;
}
