// Reactions: a chip's click gives or takes back ours; the menu's quick row and the full
// picker react too. Live: a message.reaction event carries the new counts but no "me"
// (everyone reads it alike), so which chips are ours is kept here: the event's user_id
// and `added` say whether it was us. A long press on a chip names who reacted.

import { api, ApiError } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { reactorNames } from "./chips.js";
import { updateMessage } from "./history.js";
import { openView, state, toast } from "./state.js";

/** The menu's quick row, as the server spells them (tests/integration/test_emoji_list.py). */
export const QUICK_REACTIONS = ["👍", "❤️", "😂", "😮", "😢", "🙏"];

function reactionPath(messageId, emoji) {
  return `/api/v1/messages/${messageId}/reactions/${encodeURIComponent(emoji)}`;
}

/** Give `emoji` to a message, or take it back if it is ours already. */
export async function toggleReaction(view, messageId, emoji) {
  const message = view.messages.get(messageId);
  const mine = Boolean(message && (message.reactions || []).find((r) => r.emoji === emoji && r.me));
  await setReaction(view, messageId, emoji, !mine);
}

/** Give (`on`) or take back a reaction; the answer redraws the message. */
export async function setReaction(view, messageId, emoji, on) {
  try {
    const data = await api(reactionPath(messageId, emoji), { method: on ? "PUT" : "DELETE" });
    if (state.open === view) updateMessage(view, data.message);
  } catch (error) {
    toast(error instanceof ApiError ? error.text : t("somethingWrong"));
  }
}

/** A message.reaction event: the counts from the event, "me" from what we knew. */
export function applyReactionEvent(data) {
  const view = openView(data.chat_id);
  const message = view && view.messages.get(data.message_id);
  if (!message) return;
  const mine = new Set((message.reactions || []).filter((r) => r.me).map((r) => r.emoji));
  if (data.user_id === state.me) {
    if (data.added) mine.add(data.emoji);
    else mine.delete(data.emoji);
  }
  const reactions = data.reactions.map((r) => ({ ...r, me: mine.has(r.emoji) }));
  updateMessage(view, { ...message, reactions });
}

let shownWho = null;

function closeWho() {
  if (!shownWho) return;
  shownWho.remove();
  shownWho = null;
}

document.addEventListener("pointerdown", (event) => {
  if (shownWho && !shownWho.contains(event.target)) closeWho();
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closeWho();
});

/** Who gave the chip's reaction, in a small popover under it (the long press on touch). */
export function showReactors(view, messageId, emoji, chip) {
  closeWho();
  const message = view.messages.get(messageId);
  const reaction = message && (message.reactions || []).find((r) => r.emoji === emoji);
  if (!reaction) return;
  const li = chip.closest("li[data-message-id]");
  shownWho = h(
    "div",
    { class: "readers-popover reactors-popover opens-down", role: "dialog", "aria-label": t("reactedTitle", { emoji }) },
    h("h3", { class: "readers-title", text: `${emoji} ${reaction.count}` }),
    h("p", { class: "reactors-names", text: reactorNames(message.chat_id, reaction) }),
  );
  li.append(shownWho);
}
