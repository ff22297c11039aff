// The chats page's shared state and the page's fixed DOM anchors.

/** Messages asked for per page of history. */
export const PAGE = 50;

export const listEl = document.querySelector("[data-chat-list]");
export const statusEl = document.querySelector("[data-chats-status]");
export const paneEl = document.querySelector("[data-chat-pane]");
export const emptyEl = document.querySelector("[data-chat-empty]");
export const appEl = document.querySelector("main.chat-app");
export const lightbox = document.querySelector("[data-lightbox]");
export const lightboxImage = document.querySelector("[data-lightbox-image]");

export const state = {
  me: document.body.dataset.userId,
  chats: new Map(), // id → chat as the API shows it
  open: null, // the open chat's view (see openChat in pane.js)
  gone: new Set(), // ids of chats we left, were removed from or saw deleted
};

/** The open chat's view if it is the chat `chatId`, else null. */
export function openView(chatId) {
  return state.open && state.open.id === chatId ? state.open : null;
}

/**
 * Calls into a module that itself imports the caller, so that imports run one way.
 * chat.js fills these in at start-up.
 */
export const hooks = {
  /** openChat(chatId, { focus }) of pane.js: the chat list's buttons and a resync open chats. */
  openChat: null,
  /** chatChanged(chatId) of pane.js: a chat's title, photo, members, roles or pin changed. */
  chatChanged: () => {},
  /** leavingChat(view): the open chat is about to go (drafts.js keeps its draft). */
  leavingChat: () => {},
  /** Of actions.js, for live.js: hiddenForMe(chatId, messageId) (message.hidden),
   * cleared(chatId, throughId) (chat.cleared), quotesGone(view, messageId) (a deleted
   * message's replies). */
  hiddenForMe: () => {},
  cleared: () => {},
  quotesGone: () => {},
};

/** A short note at the bottom of the page ("Скопировано"), read out by screen readers. */
let toastTimer = null;
export function toast(text) {
  let el = document.querySelector("[data-toast]");
  if (!el) {
    el = document.createElement("p");
    el.className = "toast-note";
    el.dataset.toast = "";
    el.setAttribute("role", "status");
    document.body.append(el);
  }
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 2500);
}
