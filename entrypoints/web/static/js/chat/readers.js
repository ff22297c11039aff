// Who has read one of our messages in a group: "Прочитано N" opens a small popover with
// their names (Esc, a click elsewhere or the button again close it).

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
  shown = { button, popover };
  try {
    const data = await api(`/api/v1/messages/${messageId}/readers`);
    body.replaceChildren(readerList(data.readers));
  } catch {
    body.replaceChildren(h("p", { class: "readers-empty", text: t("somethingWrong") }));
  }
}
