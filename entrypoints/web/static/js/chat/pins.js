// Pins: the bar under the chat's header shows the latest pinned message (the chat's
// pinned_message); a click jumps to it. The menu pins and unpins; which messages are
// pinned is asked of the server (GET …/pins) when the chat opens and when a chat.pinned
// event says it changed (groupevents.js refetches the chat, pane.js calls refreshPins).

import { api, ApiError } from "../api.js";
import { h, icon } from "../dom.js";
import { t } from "../i18n.js";
import { jumpTo } from "./jump.js";
import { updateChat } from "./list.js";
import { quoteText, snapshotOf } from "./quote.js";
import { state, toast } from "./state.js";

/** The bar, empty and hidden until the chat has a pin. */
export function pinnedBarView(view) {
  const text = h("span", { class: "pinned-text", dir: "auto" });
  const bar = h(
    "button",
    { type: "button", class: "pinned-bar", hidden: true },
    icon("pin", "pinned-icon"),
    h("span", { class: "pinned-body" }, h("span", { class: "pinned-label", text: t("pinnedMessage") }), text),
  );
  bar.addEventListener("click", () => {
    const pinned = state.chats.get(view.id)?.pinned_message;
    if (pinned) jumpTo(view, pinned.id);
  });
  return { pinnedBar: bar, pinnedText: text };
}

/** Show the chat's latest pin, or hide the bar. */
export function showPinned(view, chat) {
  const pinned = chat.pinned_message;
  view.ui.pinnedBar.hidden = !pinned;
  if (!pinned) return;
  const words = pinned.is_deleted ? t("deleted") : quoteText(snapshotOf(pinned));
  view.ui.pinnedText.textContent = words;
  view.ui.pinnedBar.setAttribute("aria-label", `${t("pinnedMessage")}: ${words}. ${t("pinnedJump")}`);
}

/** Which messages of the open chat are pinned, for the menu's Pin / Unpin. */
export async function refreshPins(view) {
  try {
    const data = await api(`/api/v1/chats/${view.id}/pins`);
    if (state.open === view) view.pinned = new Set(data.messages.map((m) => m.id));
  } catch {
    /* the chat may be gone: its own event says so */
  }
}

export function isPinned(view, messageId) {
  return Boolean(view.pinned && view.pinned.has(messageId));
}

/** Pin a message of the open chat, or unpin it. */
export async function setPinned(view, messageId, on) {
  try {
    const data = await api(`/api/v1/chats/${view.id}/pins/${messageId}`, { method: on ? "PUT" : "DELETE" });
    if (!view.pinned) view.pinned = new Set();
    if (on) view.pinned.add(messageId);
    else view.pinned.delete(messageId);
    updateChat(data.chat);
    toast(on ? t("pinnedDone") : t("unpinnedDone"));
  } catch (error) {
    toast(error instanceof ApiError ? error.text : t("somethingWrong"));
  }
}
