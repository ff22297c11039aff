// Opening a chat: its pane (header, history, composer) put together, wired and loaded;
// a group's header opens its members panel, and redraws when the group changes.

import { avatar, h, icon } from "../dom.js";
import { t } from "../i18n.js";
import { displayName } from "../privacy.js";
import { composerView, wireComposer } from "./composer.js";
import { closeChat, historyView, loadLatest, wireHistory } from "./history.js";
import { fetchChat, peerOf, renderChatList } from "./list.js";
import { wirePresence } from "./presence.js";
import { closeMembers, refreshMembers, toggleMembers } from "./members.js";
import { groupPhotoUrl, isGroup, memberCount } from "./people.js";
import { appEl, emptyEl, openView, paneEl, state } from "./state.js";
import { wireStickers } from "./stickers.js";

function backButton() {
  return h("button", { type: "button", class: "icon-button back-button", "aria-label": t("backToChats"), title: t("backToChats"), onclick: closeChat }, icon("arrow-left"));
}

/** A group's header: a button with its photo, title and member count that opens the panel. */
function groupHeader(view, chat) {
  const open = Boolean(view.panel);
  return h(
    "header",
    { class: "chat-header" },
    backButton(),
    h(
      "button",
      {
        type: "button",
        class: "chat-header-button",
        "aria-expanded": String(open),
        "aria-controls": "members-panel",
        title: t("groupInfo"),
        onclick: () => toggleMembers(view),
      },
      avatar({ avatar: groupPhotoUrl(chat) }, 40, "group-avatar"),
      h("span", { class: "chat-header-text" },
        h("span", { class: "chat-title", dir: "auto", text: chat.title }),
        h("span", { class: "chat-subtitle", text: memberCount(chat) })),
    ),
  );
}

function headerView(view, chat) {
  if (isGroup(chat)) return groupHeader(view, chat);
  const peer = peerOf(chat);
  return h(
    "header",
    { class: "chat-header" },
    backButton(),
    avatar(peer, 40),
    h("div", { class: "chat-header-text" }, h("h2", { class: "chat-title", text: peer ? displayName(peer) : chat.title }),
      h("p", { class: "chat-subtitle", text: peer ? `ID ${peer.user_id}` : "" })),
  );
}

/** The pane's elements, by name: the view's `ui`. */
function buildPane(view, chat) {
  const { scroller, historyEl } = historyView();
  const composer = composerView();
  const header = headerView(view, chat);
  const dropHint = h("div", { class: "drop-hint", "aria-hidden": "true", text: t("dropHere") });
  const main = h("div", { class: "chat-main" }, header, scroller, composer.form, dropHint);
  const pane = h("div", { class: "chat-view" }, main);
  return { pane, main, header, scroller, historyEl, ...composer };
}

/** The open chat's header and members panel again, from the chat as it now is. */
export function chatChanged(chatId) {
  const view = openView(chatId);
  const chat = state.chats.get(chatId);
  if (!view || !chat) return;
  if (!isGroup(chat)) closeMembers(view);
  const focused = document.activeElement && document.activeElement.classList.contains("chat-header-button");
  const header = headerView(view, chat);
  view.ui.header.replaceWith(header);
  view.ui.header = header;
  if (focused) header.querySelector(".chat-header-button")?.focus();
  refreshMembers(view);
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
  if (!chat) return;
  const view = {
    id: chatId,
    ui: null,
    panel: null, // the members panel while open (members.js)
    messages: new Map(), // id → message
    elements: new Map(), // id → <li>
    hasMore: true,
    loadingOlder: false,
    uploads: [],
    sending: false,
  };
  view.ui = buildPane(view, chat);
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
