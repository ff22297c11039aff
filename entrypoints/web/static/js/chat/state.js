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
  /** chatChanged(chatId) of pane.js: a chat's title, photo, members or roles changed. */
  chatChanged: () => {},
};
