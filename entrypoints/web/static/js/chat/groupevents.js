// Live changes of groups: a group made or joined, renamed, re-photographed, roles and
// members changed, ourselves taken out; a chat's pins (any chat); and the "read by N" of
// our messages as members read them.

import { api } from "../api.js";
import { t } from "../i18n.js";
import { showEmpty, replaceMessage } from "./history.js";
import { fetchChat, forgetChat, renderChatList } from "./list.js";
import { isGroup } from "./people.js";
import { hooks, openView, state } from "./state.js";

const refreshing = new Map(); // chat id → { again } while its fetch runs

/** Take the chat afresh from the server (once more if it changed meanwhile), then redraw. */
async function refreshChat(chatId) {
  const running = refreshing.get(chatId);
  if (running) {
    running.again = true;
    return;
  }
  const entry = { again: true };
  refreshing.set(chatId, entry);
  try {
    while (entry.again) {
      entry.again = false;
      if (!(await fetchChat(chatId))) return;
    }
  } catch {
    return; // gone for us: its own event says so
  } finally {
    refreshing.delete(chatId);
  }
  renderChatList();
  hooks.chatChanged(chatId);
}

/** We are out of the chat: it leaves the list and, if open, the pane says why. */
export function dropChat(chatId, text) {
  forgetChat(chatId);
  if (openView(chatId)) showEmpty(text);
  renderChatList();
  hooks.chatChanged(chatId);
}

/** Handle a group's event; false for events of other kinds. */
export function onGroupEvent(event) {
  const data = event.data;
  switch (event.type) {
    case "chat.created":
      state.gone.delete(data.chat_id);
      refreshChat(data.chat_id);
      return true;
    case "chat.member_added":
      if (data.user_ids.includes(state.me)) state.gone.delete(data.chat_id);
      refreshChat(data.chat_id);
      return true;
    case "chat.updated":
    case "chat.role_changed":
    case "chat.pinned":
      refreshChat(data.chat_id);
      return true;
    case "chat.member_removed":
      if (data.user_id === state.me) dropChat(data.chat_id, data.by === state.me ? t("youLeft") : t("youWereRemoved"));
      else refreshChat(data.chat_id);
      return true;
    default:
      return false;
  }
}

/**
 * Someone read a group up to a message: our messages up to it may have more readers. Ask
 * the server for their counts (one page after the oldest that may have changed, usually),
 * one refresh at a time per open chat.
 */
export async function refreshReadCounts(view, upTo) {
  view.readsUpTo = Math.max(view.readsUpTo || 0, upTo);
  if (view.readsRunning) return;
  view.readsRunning = true;
  try {
    while (view.readsUpTo) {
      const limit = view.readsUpTo;
      view.readsUpTo = 0;
      await refetchOwn(view, limit);
    }
  } finally {
    view.readsRunning = false;
  }
}

async function refetchOwn(view, upTo) {
  const chat = state.chats.get(view.id);
  if (!isGroup(chat)) return;
  const others = chat.member_count - 1;
  const stale = [...view.messages.values()].filter(
    (m) => m.sender_id === state.me && m.kind !== "system" && !m.is_deleted && m.id <= upTo && m.read_count < others,
  );
  if (!stale.length) return;
  let after = Math.min(...stale.map((m) => m.id)) - 1;
  for (;;) {
    const data = await api(`/api/v1/chats/${view.id}/messages`, { query: { after, limit: 100 } });
    if (state.open !== view) return;
    for (const message of data.messages) {
      const shown = view.messages.get(message.id);
      if (!shown || shown.read_count === message.read_count) continue;
      const editing = view.elements.get(message.id)?.querySelector(".edit-form");
      if (editing) view.messages.set(message.id, { ...shown, read_count: message.read_count, is_read: message.is_read });
      else replaceMessage(view, message);
    }
    if (data.messages.length < 100 || data.messages[data.messages.length - 1].id >= upTo) return;
    after = data.messages[data.messages.length - 1].id;
  }
}
