// Who has read one of our messages in a group: "Прочитано N" opens a small popover with
// their names (Esc, a click elsewhere or the button again close it); it follows the
// message when that is drawn again, and asks again then.

import { api } from "../api.js";
import { avatar, fullName, h } from "../dom.js";
import { t } from "../i18n.js";

let shown = null; // { button, popover }

export function closeReaders({ focus = false } = {}) {
  if (!shown) return;
  const { button, popover } = shown;
  shown = null;
  popover.remove();
  button.setAttribute("aria-expanded", "false");
  if (focus) button.focus();
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && shown) closeReaders({ focus: true });
});
document.addEventListener("click", (event) => {
  if (shown && !shown.popover.contains(event.target) && !shown.button.contains(event.target)) closeReaders();
});

function readerList(readers) {
  if (!readers.length) return h("p", { class: "readers-empty", text: t("noReaders") });
  return h(
    "ul",
    { class: "readers-list" },
    readers.map((user) => h("li", { class: "reader" }, avatar(user, 28), h("span", { class: "reader-name", text: fullName(user) }))),
  );
}

/** Fill the open popover with the readers as the server has them now. */
async function loadReaders(entry) {
  try {
    const data = await api(`/api/v1/messages/${entry.messageId}/readers`);
    if (shown === entry) entry.body.replaceChildren(readerList(data.readers));
  } catch {
    if (shown === entry) entry.body.replaceChildren(h("p", { class: "readers-empty", text: t("somethingWrong") }));
  }
}

/**
 * A message's <li> was drawn again (its read count grew, a reaction came): an open
 * popover moves to the new one and asks again, so it stays open and up to date.
 */
export function carryReaders(oldLi, newLi) {
  if (!shown || !oldLi.contains(shown.popover)) return;
  const button = newLi.querySelector('[data-action="readers"]');
  if (!button) return closeReaders();
  shown.button = button;
  button.setAttribute("aria-expanded", "true");
  newLi.append(shown.popover);
  loadReaders(shown);
}

/** Open (or close) the readers of message `messageId` under its button. */
export async function toggleReaders(view, messageId, button) {
  const again = shown && shown.button === button;
  closeReaders();
  if (again) return;
  const body = h("div", { class: "readers-body" }, h("p", { class: "readers-empty", text: t("loading") }));
  const popover = h("div", { class: "readers-popover", role: "dialog", "aria-label": t("readersTitle") },
    h("h3", { class: "readers-title", text: t("readersTitle") }),
    body,
  );
  // Open downwards when the message is near the top of the history, else upwards.
  const scroller = view.ui.scroller;
  const li = button.closest("li");
  if (li.getBoundingClientRect().top - scroller.getBoundingClientRect().top < 220) popover.classList.add("opens-down");
  li.append(popover);
  button.setAttribute("aria-expanded", "true");
  shown = { button, popover, body, messageId };
  await loadReaders(shown);
}
