// The chats page: chat list, history with keyset paging, composer, live updates.
// This entry point wires the modules in chat/ and starts the page; the import graph runs
// one way (docs/architecture.md says what each holds): state ← people ← system ← rules,
// links, quote, chips ← message ← list ← readers ← history ← newbelow ← jump ← reactions
// ← groupevents ← live ← mentions ← drafts ← reply ← composer ← stickers ← edithistory ←
// actions ← popmenu, emojipicker ← forward ← pins ← menu ← friendpicker ← groups,
// groupsettings ← members ← pane.

import { api, ApiError } from "./api.js";
import { t } from "./i18n.js";
import { cleared, hiddenForMe, markQuotesGone, wireActions } from "./chat/actions.js";
import { writeDraft } from "./chat/drafts.js";
import { wireNewGroup } from "./chat/groups.js";
import { showEmpty, watchVisibility } from "./chat/history.js";
import { loadChats, renderChatList } from "./chat/list.js";
import { listen } from "./chat/live.js";
import { wireLightbox } from "./chat/message.js";
import { chatChanged, openChat, wireNavigation } from "./chat/pane.js";
import { hooks, state } from "./chat/state.js";

hooks.openChat = openChat;
hooks.chatChanged = chatChanged;
hooks.leavingChat = writeDraft;
hooks.hiddenForMe = hiddenForMe;
hooks.cleared = cleared;
hooks.quotesGone = markQuotesGone;

/**
 * Load the list, then open the chat the address names (?chat=id) or start one
 * (?chat_with=user). Arriving at a chat's address, the entry becomes the list's and the
 * chat is pushed over it, so that Back returns to the list (a reload keeps its entry).
 */
async function start() {
  await loadChats();
  const params = new URLSearchParams(location.search);
  const chatWith = params.get("chat_with");
  const chatId = params.get("chat");
  const reloaded = history.state && history.state.chat === Number(chatId);
  if (!reloaded && (chatWith || chatId)) history.replaceState({ chat: null }, "", "/");
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
wireNavigation();
wireNewGroup();
listen();
wireLightbox();
window.addEventListener("pagehide", () => {
  if (state.open) writeDraft(state.open);
});
start();
