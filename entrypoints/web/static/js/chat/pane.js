// Opening a chat: its pane (header, pinned bar, history, composer) put together, wired and
// loaded, its draft back in the composer; each opened chat is an entry of the browser's
// history, so Back closes it (popstate). A group's header opens its members panel; the
// header's menu clears the chat for us; the pane redraws when the chat changes.

import { avatar, h, icon } from "../dom.js";
import { t } from "../i18n.js";
import { displayName } from "../privacy.js";
import { clearChat, wireEditLast } from "./actions.js";
import { autoGrow, composerView, wireComposer } from "./composer.js";
import { readDraft } from "./drafts.js";
import { closeChat, historyView, leaveChat, loadLatest, redrawMessages, wireHistory } from "./history.js";
import { fetchChat, peerOf, renderChatList } from "./list.js";
import { jumpTo } from "./jump.js";
import { wirePresence } from "./presence.js";
import { closeMembers, refreshMembers, toggleMembers } from "./members.js";
import { wireMenu } from "./menu.js";
import { muteItems } from "./mute.js";
import { newBelowView, updateNewBelow, wireNewBelow } from "./newbelow.js";
import { groupPhotoUrl, isGroup, memberCount } from "./people.js";
import { pinnedBarView, refreshPins, showPinned } from "./pins.js";
import { openMenu } from "./popmenu.js";
import { startReply } from "./reply.js";
import { searchBox } from "./search.js";
import { appEl, emptyEl, hooks, openView, paneEl, state } from "./state.js";
import { wireStickers } from "./stickers.js";

function backButton() {
  return h("button", { type: "button", class: "icon-button back-button", "aria-label": t("backToChats"), title: t("backToChats"), onclick: closeChat }, icon("arrow-left"));
}

/** The header's "⋯": what we may do to the chat as a whole. */
function chatMenuButton(view) {
  const button = h("button", { type: "button", class: "icon-button chat-menu-button", "aria-label": t("chatMenu"), title: t("chatMenu"), "aria-haspopup": "menu" }, icon("more"));
  button.addEventListener("click", () => {
    const box = button.getBoundingClientRect();
    openMenu({
      label: t("chatMenu"),
      items: [
        ...muteItems(view.id),
        { id: "clear", label: t("clearChat"), icon: "eye-off", danger: true, run: () => clearChat(view) },
      ],
      at: { x: box.right - 240, y: box.bottom + 4 },
    });
  });
  return button;
}

/** The header's search button: a field for this chat's messages under the header. */
function searchButton(view) {
  return h("button", {
    type: "button",
    class: "icon-button chat-search-button",
    "aria-label": t("searchInChat"),
    title: t("searchInChat"),
    "aria-expanded": String(Boolean(view.search)),
    onclick: () => toggleSearch(view),
  }, icon("search"));
}

/** Open (or close) the search in this chat: a bar under the header, results over the
 * history; choosing one goes to it and folds the results away. */
function toggleSearch(view) {
  if (view.search) {
    closeSearch(view);
    return;
  }
  const box = searchBox({
    chatId: view.id,
    label: t("searchInChat"),
    onChoose: async (message) => {
      box.results.hidden = true;
      await jumpTo(view, message.id);
    },
  });
  const close = h("button", { type: "button", class: "btn-close chat-search-close", "aria-label": t("close"), onclick: () => closeSearch(view) });
  const bar = h("div", { class: "chat-search-bar" }, box.form, close);
  box.form.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !box.input.value) closeSearch(view);
  });
  view.search = { bar, box };
  view.ui.header.after(bar);
  view.ui.historyWrap.append(box.results);
  view.ui.header.querySelector(".chat-search-button")?.setAttribute("aria-expanded", "true");
  box.input.focus();
}

function closeSearch(view) {
  if (!view.search) return;
  view.search.bar.remove();
  view.search.box.results.remove();
  view.search = null;
  const button = view.ui.header.querySelector(".chat-search-button");
  button?.setAttribute("aria-expanded", "false");
  button?.focus();
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
    searchButton(view),
    chatMenuButton(view),
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
    searchButton(view),
    chatMenuButton(view),
  );
}

/** The pane's elements, by name: the view's `ui`. */
function buildPane(view, chat) {
  const { scroller, historyEl } = historyView();
  const composer = composerView();
  const header = headerView(view, chat);
  const pinned = pinnedBarView(view);
  const below = newBelowView();
  const dropHint = h("div", { class: "drop-hint", "aria-hidden": "true", text: t("dropHere") });
  const historyWrap = h("div", { class: "history-wrap" }, scroller, below.newBelow);
  const main = h("div", { class: "chat-main" },
    header,
    pinned.pinnedBar,
    historyWrap,
    composer.form,
    dropHint,
  );
  const pane = h("div", { class: "chat-view" }, main);
  return { pane, main, header, historyWrap, scroller, historyEl, ...pinned, ...below, ...composer };
}

/** The open chat's header, pin and members panel again, from the chat as it now is; its
 * messages too when our role changed (what we may delete or pin changed with it). */
export function chatChanged(chatId) {
  const view = openView(chatId);
  const chat = state.chats.get(chatId);
  if (!view || !chat) return;
  if (!isGroup(chat)) closeMembers(view);
  const focused = document.activeElement && document.activeElement.classList.contains("chat-header-button");
  const header = headerView(view, chat);
  view.ui.header.replaceWith(header);
  view.ui.header = header;
  if (view.search) header.after(view.search.bar);
  if (focused) header.querySelector(".chat-header-button")?.focus();
  refreshMembers(view);
  showPinned(view, chat);
  refreshPins(view);
  if (view.role !== chat.my_role) {
    view.role = chat.my_role;
    redrawMessages(view);
  }
}

/** The draft kept for the chat back in its composer. */
function restoreDraft(view) {
  const draft = readDraft(view.id);
  view.ui.textarea.value = draft.text;
  autoGrow(view.ui.textarea);
  if (draft.reply) startReply(view, draft.reply, { focus: false });
}

/**
 * Show chat `chatId` in the pane (on phones, over the list) and load its latest page.
 * `push`: make it an entry of the browser's history (not when Back or Forward brought us
 * here, nor when a resync reopens it).
 */
export async function openChat(chatId, { focus = true, push = true } = {}) {
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
    hasMore: true, // older messages to page to
    hasNewer: false, // newer ones, after a jump left the latest
    loadingOlder: false,
    uploads: [],
    sending: false,
    role: chat.my_role,
    pinned: new Set(), // ids of the chat's pinned messages (pins.js)
    search: null, // the search in this chat while open: { bar, box }
  };
  view.ui = buildPane(view, chat);
  if (state.open) hooks.leavingChat(state.open);
  state.open = view;
  emptyEl.hidden = true;
  paneEl.querySelector(".chat-view")?.remove();
  paneEl.append(view.ui.pane);
  appEl.classList.add("show-pane");
  const here = history.state && history.state.chat === chatId;
  if (push && !here) history.pushState({ chat: chatId }, "", `/?chat=${chatId}`);
  else history.replaceState({ chat: chatId }, "", `/?chat=${chatId}`);
  wireComposer(view);
  wireEditLast(view);
  wireStickers(view);
  wireHistory(view);
  wireNewBelow(view);
  restoreDraft(view);
  showPinned(view, chat);
  refreshPins(view);
  wirePresence(view, chat);
  renderChatList();
  await loadLatest(view, { readUpTo: chat.last_read_message_id, unread: chat.unread_count });
  if (state.open === view) updateNewBelow(view);
  if (focus && state.open === view) view.ui.textarea.focus({ preventScroll: true });
}

/** Back and Forward move between the chats opened and the list. */
export function wireNavigation() {
  wireMenu();
  window.addEventListener("popstate", (event) => {
    const chatId = event.state && event.state.chat;
    if (chatId && state.chats.has(chatId)) openChat(chatId, { push: false });
    else if (state.open) leaveChat();
  });
}
