// The chats page: chat list, history with keyset paging, composer, live updates.
// This entry point wires the modules in chat/ and starts the page; the import graph runs
// one way: state ← people ← system ← message ← list ← history ← groupevents ← live ←
// mentions ← composer ← stickers, readers ← actions ← friendpicker ← groups (the new-group
// dialog), groupsettings ← members ← pane.

import { api, ApiError } from "./api.js";
import { t } from "./i18n.js";
import { wireActions } from "./chat/actions.js";
import { wireNewGroup } from "./chat/groups.js";
import { showEmpty, watchVisibility } from "./chat/history.js";
import { loadChats, renderChatList } from "./chat/list.js";
import { listen } from "./chat/live.js";
import { wireLightbox } from "./chat/message.js";
import { chatChanged, openChat } from "./chat/pane.js";
import { hooks, state } from "./chat/state.js";

hooks.openChat = openChat;
hooks.chatChanged = chatChanged;

/** Load the list, then open the chat the address names (?chat=id) or start one (?chat_with=user). */
async function start() {
  await loadChats();
  const params = new URLSearchParams(location.search);
  const chatWith = params.get("chat_with");
  const chatId = params.get("chat");
  if (chatWith) {
    try {
      const data = await api("/api/v1/chats", { method: "POST", body: { user_id: chatWith } });
      state.chats.set(data.chat.id, data.chat);
      renderChatList();
      await openChat(data.chat.id);
    } catch (error) {
      showEmpty(error instanceof ApiError ? error.text : t("somethingWrong"));
    }
  } else if (chatId && state.chats.has(Number(chatId))) {
    await openChat(Number(chatId));
  }
}

watchVisibility();
wireActions();
wireNewGroup();
listen();
wireLightbox();
start();
