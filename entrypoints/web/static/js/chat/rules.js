// What the reader may do to a message, as the server decides it (messenger_core/policies.py):
// the page offers an action only where the server would allow it.

import { limits } from "../i18n.js";
import { canManage, isGroup } from "./people.js";
import { state } from "./state.js";

/** A message a member wrote that is still there (not a system line, not a tombstone). */
export function isLive(message) {
  return message.kind !== "system" && !message.is_deleted;
}

/** Its author edits its text while the edit window (EDIT_WINDOW_HOURS; 0: always) lasts. */
export function mayEdit(message, now = Date.now() / 1000) {
  if (!isLive(message) || message.sender_id !== state.me || !message.text) return false;
  const hours = limits.edit_window_hours || 0;
  return hours === 0 || now - message.sending_date < hours * 3600;
}

/** The author deletes it for everyone; in a group, its owner and admins delete anyone's. */
export function mayDeleteForEveryone(message) {
  return isLive(message) && (message.sender_id === state.me || canManage(state.chats.get(message.chat_id)));
}

/** Either member pins in a direct chat; in a group, its owner and admins. */
export function mayPin(message) {
  const chat = state.chats.get(message.chat_id);
  return isLive(message) && Boolean(chat) && (!isGroup(chat) || canManage(chat));
}
