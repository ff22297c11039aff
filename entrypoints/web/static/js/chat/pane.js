// Opening a chat: its pane (header, history, composer) put together, wired and loaded.

import { avatar, h, icon } from "../dom.js";
import { t } from "../i18n.js";
import { displayName } from "../people.js";
import { composerView, wireComposer } from "./composer.js";
import { closeChat, historyView, loadLatest, wireHistory } from "./history.js";
import { fetchChat, peerOf, renderChatList } from "./list.js";
import { wirePresence } from "./presence.js";
import { appEl, emptyEl, paneEl, state } from "./state.js";
import { wireStickers } from "./stickers.js";

function headerView(chat) {
  const peer = peerOf(chat);
  return h(
    "header",
    { class: "chat-header" },
    h("button", { type: "button", class: "icon-button back-button", "aria-label": t("backToChats"), title: t("backToChats"), onclick: closeChat }, icon("arrow-left")),
    avatar(peer, 40),
    h("div", { class: "chat-header-text" }, h("h2", { class: "chat-title", text: peer ? displayName(peer) : chat.title }),
      h("p", { class: "chat-subtitle", text: peer ? `ID ${peer.user_id}` : "" })),
  );
}

/** The pane's elements, by name: the view's `ui`. */
function buildPane(chat) {
  const { scroller, historyEl } = historyView();
  const composer = composerView();
  const header = headerView(chat);
  const dropHint = h("div", { class: "drop-hint", "aria-hidden": "true", text: t("dropHere") });
  const pane = h("div", { class: "chat-view" }, header, scroller, composer.form, dropHint);
  return { pane, header, scroller, historyEl, ...composer };
}

/** Show chat `chatId` in the pane (on phones, over the list) and load its latest page. */
export async function openChat(chatId, { focus = true } = {}) {
  chatId = Number(chatId);
  if (state.open && state.open.id === chatId) {
    appEl.classList.add("show-pane");
    return;
  }
  let chat = state.chats.get(chatId);
  if (!chat) chat = await fetchChat(chatId);
  const view = {
    id: chatId,
    ui: buildPane(chat),
    messages: new Map(), // id → message
    elements: new Map(), // id → <li>
    hasMore: true,
    loadingOlder: false,
    uploads: [],
    sending: false,
  };
  state.open = view;
  emptyEl.hidden = true;
  paneEl.querySelector(".chat-view")?.remove();
  paneEl.append(view.ui.pane);
  appEl.classList.add("show-pane");
  history.replaceState(null, "", `/?chat=${chatId}`);
  wireComposer(view);
  wireStickers(view);
  wireHistory(view);
  wirePresence(view, chat);
  renderChatList();
  await loadLatest(view);
  if (focus) view.ui.textarea.focus();
}
