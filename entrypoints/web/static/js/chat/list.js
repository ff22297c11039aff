// The chat list beside the history, and the unread total in the title and the nav.

import { api } from "../api.js";
import { avatar, h, isoTime, shortTime } from "../dom.js";
import { t } from "../i18n.js";
import { setUnreadTotal } from "../nav.js";
import { isMuted, unreadTotal } from "../notify.js";
import { displayName } from "../privacy.js";
import { groupPhotoUrl, isGroup, person } from "./people.js";
import { hooks, listEl, state, statusEl } from "./state.js";
import { systemText } from "./system.js";

/** The other member of a one-to-one chat (or the first member, failing that). */
export function peerOf(chat) {
  return chat.members.find((m) => m.user_id !== state.me) || chat.members[0];
}

/** The last message in a line: whose it is ("Вы: …", in groups "Анна: …") and what. */
function preview(chat, message) {
  if (!message) return "";
  if (message.kind === "system") return systemText(message);
  let text;
  if (message.is_deleted) text = t("deleted");
  else if (message.text) text = message.text;
  else if (message.sticker) text = t("sticker");
  else if (message.attachments.length) {
    const first = message.attachments[0];
    text = first.kind === "file" ? `${t("file")}: ${first.name}` : t(first.kind);
  } else text = "";
  if (message.sender_id === state.me) return `${t("you")}: ${text}`;
  if (!isGroup(chat)) return text;
  const sender = person(chat.id, message.sender_id);
  return sender ? `${sender.first_name}: ${text}` : text;
}

function sortedChats() {
  return [...state.chats.values()].sort((a, b) => b.last_activity - a.last_activity || b.id - a.id);
}

function chatItem(chat) {
  const group = isGroup(chat);
  const peer = group ? null : peerOf(chat);
  const last = chat.last_message;
  const unread = chat.unread_count > 0;
  const mentioned = chat.unread_mentions > 0;
  const isOpen = state.open && state.open.id === chat.id;
  const muted = isMuted(chat);
  return h(
    "li",
    {},
    h(
      "button",
      {
        type: "button",
        class: `chat-item${isOpen ? " active" : ""}${unread ? " has-unread" : ""}${muted ? " is-muted" : ""}`,
        "aria-current": isOpen ? "true" : null,
        dataset: { chatId: chat.id },
        onclick: () => hooks.openChat(chat.id),
      },
      group ? avatar({ avatar: groupPhotoUrl(chat) }, 48, "group-avatar") : avatar(peer, 48),
      h(
        "span",
        { class: "chat-item-body" },
        h(
          "span",
          { class: "chat-item-top" },
          h("span", { class: "chat-item-name", text: peer ? displayName(peer) : chat.title }),
          muted ? h("span", { class: "icon icon-bell-off icon-sm chat-item-muted", role: "img", "aria-label": t("muted"), title: t("muted") }) : null,
          h("time", {
            class: "chat-item-time",
            datetime: isoTime(last ? last.sending_date : chat.last_activity),
            text: shortTime(last ? last.sending_date : chat.last_activity),
          }),
        ),
        h(
          "span",
          { class: "chat-item-bottom" },
          h("span", { class: `chat-item-preview${last && (last.is_deleted || last.kind === "system") ? " fst-italic" : ""}`, dir: "auto", text: preview(chat, last) }),
          mentioned ? h("span", { class: "badge rounded-pill mention-badge", "aria-label": t("mentionedYou"), title: t("mentionedYou"), text: "@" }) : null,
          unread
            ? h("span", {
              class: `badge rounded-pill unread-badge${muted ? " is-muted" : ""}`,
              "aria-label": t(muted ? "unreadMuted" : "unread", { n: chat.unread_count }),
              text: chat.unread_count,
            })
            : null,
        ),
      ),
    ),
  );
}

/** Redraw the list from state.chats, keeping the focus on the chat that had it. */
export function renderChatList() {
  const focusedId = document.activeElement && document.activeElement.dataset.chatId;
  listEl.replaceChildren(...sortedChats().map(chatItem));
  statusEl.textContent = state.chats.size ? "" : t("noChats");
  statusEl.hidden = state.chats.size > 0;
  if (focusedId) {
    const again = listEl.querySelector(`[data-chat-id="${CSS.escape(focusedId)}"]`);
    if (again) again.focus();
  }
  updateUnreadTotal();
}

let muteEnds = null;

/** The total without muted chats; the list drawn again when the next mute ends. */
function updateUnreadTotal() {
  setUnreadTotal(unreadTotal(state.chats.values()));
  clearTimeout(muteEnds);
  const now = Date.now();
  const ends = [...state.chats.values()].filter((c) => isMuted(c, now)).map((c) => c.muted_until * 1000 - now);
  const next = Math.min(...ends);
  if (next < 86400000) muteEnds = setTimeout(renderChatList, next + 50);
}

export async function loadChats() {
  const data = await api("/api/v1/chats");
  state.chats = new Map(data.chats.map((c) => [c.id, c]));
  renderChatList();
}

/** The chat as the server has it now, into the list's state; null when we were taken out
 * of it meanwhile (a late answer must not bring it back). */
export async function fetchChat(chatId) {
  const data = await api(`/api/v1/chats/${chatId}`);
  if (state.gone.has(data.chat.id)) return null;
  state.chats.set(data.chat.id, data.chat);
  return data.chat;
}

/** A chat as one of our changes left it: into the list, and its pane redrawn. */
export function updateChat(chat) {
  state.chats.set(chat.id, chat);
  renderChatList();
  hooks.chatChanged(chat.id);
}

/** We are no longer in the chat: forget it. */
export function forgetChat(chatId) {
  state.gone.add(chatId);
  state.chats.delete(chatId);
}

/** An edited or deleted message: redraw the list if it is a chat's last message. */
export function applyToChatList(message) {
  const chat = state.chats.get(message.chat_id);
  if (chat && chat.last_message && chat.last_message.id === message.id) {
    chat.last_message = message;
    renderChatList();
  }
}
