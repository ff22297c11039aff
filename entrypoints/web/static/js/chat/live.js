// Live updates: new, edited, deleted, reacted to and read messages, from the event stream
// or our own sends; messages and chats hidden or cleared for us in another tab; chats gone
// or changed; the resync after lost events; the reconnecting banner.

import { api } from "../api.js";
import { h } from "../dom.js";
import { onConnection, onResync, subscribe } from "../events.js";
import { t } from "../i18n.js";
import { dropChat, onGroupEvent, refreshReadCounts } from "./groupevents.js";
import { insertMessages, loadLatest, markRead, nearBottom, replaceMessage, scrollToBottom, showEmpty, updateMessage } from "./history.js";
import { applyToChatList, fetchChat, loadChats, renderChatList } from "./list.js";
import { noteArrival } from "./newbelow.js";
import { isGroup } from "./people.js";
import { applyReactionEvent } from "./reactions.js";
import { hooks, openView, state } from "./state.js";

/** Into the open history: ours go to the bottom (back to the latest after a jump); those
 * of others keep the reader where they are, counted on the "new messages" button. */
function showArrival(view, message) {
  const own = message.sender_id === state.me;
  if (view.hasNewer) {
    if (own) loadLatest(view);
    else if (message.kind !== "system") noteArrival(view);
    return;
  }
  const stick = own || view.stuck || nearBottom(view.ui.scroller, 4);
  insertMessages(view, [message], "bottom");
  if (stick) scrollToBottom(view);
  else if (message.kind !== "system") noteArrival(view);
}

/** A message sent by us or by someone else: into the open history and the chat list. */
export async function onNewMessage(message) {
  let chat = state.chats.get(message.chat_id);
  const view = openView(message.chat_id);
  if (view && !view.messages.has(message.id)) showArrival(view, message);
  if (!chat) {
    try {
      chat = await fetchChat(message.chat_id);
    } catch {
      return;
    }
  } else if (!chat.last_message || chat.last_message.id <= message.id) {
    const isNew = !chat.last_message || chat.last_message.id < message.id;
    chat.last_message = message;
    chat.last_activity = Math.max(chat.last_activity, message.sending_date);
    if (isNew && message.sender_id !== state.me && message.kind !== "system") {
      chat.unread_count += 1;
      if ((message.mentions || []).includes(state.me)) chat.unread_mentions += 1;
    }
    if (message.sender_id === state.me) chat.last_read_message_id = Math.max(chat.last_read_message_id, message.id);
  }
  renderChatList();
  if (view && message.sender_id !== state.me) markRead(view);
}

function onChangedMessage(message) {
  const view = openView(message.chat_id);
  if (view && view.elements.has(message.id)) {
    const shown = view.messages.get(message.id);
    // An event has no "me": our reactions stay as we knew them.
    const mine = new Set((shown.reactions || []).filter((r) => r.me).map((r) => r.emoji));
    updateMessage(view, { ...message, reactions: (message.reactions || []).map((r) => ({ ...r, me: mine.has(r.emoji) })) });
  }
  if (view && message.is_deleted) hooks.quotesGone(view, message.id);
  applyToChatList(message);
}

async function onChatRead(data) {
  if (data.user_id === state.me) {
    // Read in another tab of ours: take the counts from the server.
    try {
      await fetchChat(data.chat_id);
      renderChatList();
    } catch {
      /* the chat may be gone */
    }
    return;
  }
  const view = openView(data.chat_id);
  const chat = state.chats.get(data.chat_id);
  if (view && isGroup(chat)) refreshReadCounts(view, data.message_id);
  else if (view) {
    for (const [id, message] of view.messages) {
      if (id <= data.message_id && message.sender_id === state.me && !message.is_read && !message.is_deleted) {
        replaceMessage(view, { ...message, is_read: true });
      }
    }
  }
  if (chat && chat.last_message && chat.last_message.id <= data.message_id) chat.last_message.is_read = true;
}

async function onUserUpdated() {
  try {
    const me = await api("/api/v1/users/me");
    state.me = me.user.user_id;
    document.querySelectorAll("[data-my-avatar]").forEach((img) => (img.src = me.user.avatar));
    await loadChats();
    // Names and avatars in the open chat's header (and a group's members panel).
    if (state.open) hooks.chatChanged(state.open.id);
  } catch {
    /* the next event or reload brings it */
  }
}

function onEvent(event) {
  const data = event.data;
  switch (event.type) {
    case "message.new":
      onNewMessage(data.message);
      break;
    case "message.edited":
    case "message.deleted":
      onChangedMessage(data.message);
      break;
    case "chat.read":
      onChatRead(data);
      break;
    case "message.reaction":
      applyReactionEvent(data);
      break;
    case "message.hidden":
      hooks.hiddenForMe(data.chat_id, data.message_id);
      break;
    case "chat.cleared":
      hooks.cleared(data.chat_id, data.through_message_id);
      fetchChat(data.chat_id).then(renderChatList, () => {});
      break;
    case "chat.deleted":
      dropChat(data.chat_id, isGroup(state.chats.get(data.chat_id)) ? t("groupDeleted") : t("chatDeleted"));
      break;
    case "user.updated":
      onUserUpdated();
      break;
    case "friend.accepted":
    case "friend.removed":
      loadChats().catch(() => {});
      break;
    default:
      onGroupEvent(event);
      break;
  }
}

/** Events were lost: reload the list and reopen the open chat afresh. */
async function resync() {
  await loadChats();
  if (state.open) {
    const id = state.open.id;
    state.open = null;
    if (state.chats.has(id)) await hooks.openChat(id, { focus: false, push: false });
    else showEmpty(t("chatDeleted"));
  }
}

/** Start the event stream and show a banner while it is down. */
export function listen() {
  subscribe(onEvent);
  onResync(resync);
  const offline = h("p", { class: "connection-banner", role: "status", hidden: true, text: t("reconnecting") });
  document.body.append(offline);
  onConnection((online) => {
    offline.hidden = online;
  });
}
