// The people and groups the chats page names: members of the chats in the list, people
// named by system messages (who may have left since), and how a group shows itself.

import { fullName } from "../dom.js";
import { t, tn } from "../i18n.js";
import { state } from "./state.js";

const seen = new Map(); // user_id → short user, for people no longer in a chat's members

/** Keep short users met in messages, to name them after they leave. */
export function remember(users) {
  for (const user of users) if (user) seen.set(user.user_id, user);
}

export function isGroup(chat) {
  return Boolean(chat) && chat.kind === "group";
}

/** Whether we may run the group: members, title, photo and settings. */
export function canManage(chat) {
  return isGroup(chat) && (chat.my_role === "owner" || chat.my_role === "admin");
}

/** A member of the chat, else someone met before, else null. */
export function person(chatId, userId) {
  const chat = state.chats.get(chatId);
  const member = chat && chat.members.find((m) => m.user_id === userId);
  return member || seen.get(userId) || null;
}

/** A person's full name; someone we cannot name any more is a former member. */
export function nameOf(user) {
  return user ? fullName(user) : t("formerMember");
}

/** A stand-in for whom we know only the id (the avatar route answers for anyone). */
export function nobody(userId) {
  return { user_id: userId, first_name: "", second_name: "", avatar: `/api/v1/users/${encodeURIComponent(userId)}/avatar` };
}

// The initials picture is cached for a day: its address changes with the title.
function titleVersion(title) {
  let hash = 0;
  for (const char of title) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return hash.toString(36);
}

/** The group's photo, or the server's picture of its title's initials. */
export function groupPhotoUrl(chat) {
  return chat.photo || `/api/v1/chats/${chat.id}/photo?v=t${titleVersion(chat.title)}`;
}

/** "3 участника", "1 member". */
export function memberCount(chat) {
  return tn("members", chat.member_count);
}

/** A member's role in words ("владелец"). */
export function roleName(role) {
  return t(`role_${role}`);
}
