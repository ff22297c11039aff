// The open chat's history: its scroller, keyset paging both ways (older at the top; newer
// at the bottom after a jump left the latest messages), day separators, the "new messages"
// line, staying at the bottom while the last messages' media load, read marks; closing
// the pane or showing the empty one instead.

import { api, ApiError } from "../api.js";
import { dayLabel, debounce, h } from "../dom.js";
import { t } from "../i18n.js";
import { renderChatList } from "./list.js";
import { messageView } from "./message.js";
import { carryReaders } from "./readers.js";
import { appEl, emptyEl, hooks, listEl, PAGE, paneEl, state } from "./state.js";

/** The scroller with its top line (loading, start of history) and the message list. */
export function historyView() {
  const historyEl = h("ol", { class: "history", "aria-label": t("history") });
  const scroller = h("div", { class: "history-scroller", tabindex: "0", role: "log", "aria-live": "polite" },
    h("p", { class: "history-top", role: "status" }),
    historyEl,
  );
  return { scroller, historyEl };
}

/** Scrolling near the top loads older pages, near the bottom newer ones (after a jump);
 * while the reader is at the bottom, growing content (a photo loading) keeps it there. */
export function wireHistory(view) {
  const ui = view.ui;
  view.stuck = true;
  let lastTop = ui.scroller.scrollTop;
  // Stuck at the bottom until the reader scrolls up: content growing under us (scroll
  // events come before the resize is seen) must not unstick it.
  ui.scroller.addEventListener("scroll", () => {
    const top = ui.scroller.scrollTop;
    if (nearBottom(ui.scroller, 4)) view.stuck = !view.hasNewer;
    else if (top < lastTop - 1) view.stuck = false;
    lastTop = top;
  });
  ui.scroller.addEventListener("scroll", debounce(() => {
    if (ui.scroller.scrollTop < 300) loadOlder(view).then(() => fillScreen(view));
    if (view.hasNewer && nearBottom(ui.scroller, 300)) loadNewer(view);
  }, 50));
  new ResizeObserver(() => {
    if (view.stuck && state.open === view) scrollToBottom(view);
  }).observe(ui.historyEl);
}

/** Take the open chat away and show the empty pane (its words back to the default). */
export function leaveChat() {
  const view = state.open;
  if (!view) return;
  hooks.leavingChat(view);
  paneEl.querySelector(".chat-view")?.remove();
  state.open = null;
  emptyEl.hidden = false;
  appEl.classList.remove("show-pane");
  renderChatList();
  listEl.querySelector(`[data-chat-id="${view.id}"]`)?.focus();
}

/** The header's back button: the browser's Back where opening the chat made an entry
 * (the popstate closes it, pane.js), else close it here. */
export function closeChat() {
  if (state.open && history.state && history.state.chat === state.open.id) history.back();
  else {
    leaveChat();
    history.replaceState({ chat: null }, "", "/");
  }
}

/** Close the open chat and show the empty pane, with `message` if given. */
export function showEmpty(message) {
  if (state.open) hooks.leavingChat(state.open);
  paneEl.querySelector(".chat-view")?.remove();
  state.open = null;
  emptyEl.hidden = false;
  if (message) emptyEl.querySelector("p").textContent = message;
  appEl.classList.remove("show-pane");
  history.replaceState({ chat: null }, "", "/");
}

export function nearBottom(scroller, within = 150) {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < within;
}

export function scrollToBottom(view) {
  view.ui.scroller.scrollTop = view.ui.scroller.scrollHeight;
  view.stuck = !view.hasNewer;
}

/** Add the messages not shown yet at the top or, in id order, the bottom; how many were new. */
export function insertMessages(view, messages, where) {
  const fresh = messages.filter((m) => !view.messages.has(m.id));
  const nodes = fresh.map((m) => {
    view.messages.set(m.id, m);
    const el = messageView(m);
    view.elements.set(m.id, el);
    return el;
  });
  if (where === "top") view.ui.historyEl.prepend(...nodes);
  else {
    // Keep id order even if an event and an answer race.
    const shown = [...view.ui.historyEl.children].filter((li) => li.dataset.messageId);
    for (const node of nodes) {
      const id = Number(node.dataset.messageId);
      const after = shown.find((li) => Number(li.dataset.messageId) > id);
      view.ui.historyEl.insertBefore(node, after || null);
    }
  }
  view.ui.historyEl.querySelector(".history-empty")?.remove();
  markDays(view);
  return fresh.length;
}

/** Take a message out of the history (hidden for us, or cleared). */
export function removeMessage(view, id) {
  const el = view.elements.get(id);
  if (!el) return;
  el.remove();
  const divider = view.ui.historyEl.querySelector(".unread-divider");
  if (divider && !divider.nextElementSibling) divider.remove();
  view.messages.delete(id);
  view.elements.delete(id);
  markDays(view);
  if (!view.messages.size && !view.hasMore && !view.hasNewer) showNoMessages(view);
}

function showNoMessages(view) {
  view.ui.historyEl.replaceChildren(h("li", { class: "history-empty", text: t("noMessages") }));
  updateHistoryTop(view);
}

/**
 * A date line before the first message of each day (before the "new messages" line when
 * that starts the day); and the first message of each run of one person's (a new day or
 * a system line starts a run) is marked, for groups to show the sender over it.
 */
function markDays(view) {
  const list = view.ui.historyEl;
  list.querySelectorAll(".day-separator").forEach((el) => el.remove());
  let previous = "";
  let runOf = null;
  for (const li of [...list.children]) {
    const message = view.messages.get(Number(li.dataset.messageId));
    if (!message) continue;
    const day = dayLabel(message.sending_date);
    if (day !== previous) {
      const before = li.previousElementSibling?.classList.contains("unread-divider") ? li.previousElementSibling : li;
      before.before(h("li", { class: "day-separator", role: "separator" }, h("span", { text: day })));
      previous = day;
      runOf = null;
    }
    const sender = message.kind === "system" ? null : message.sender_id;
    li.classList.toggle("run-start", sender !== null && sender !== runOf);
    runOf = sender;
  }
}

/** Redraw a shown message from its new state. */
export function replaceMessage(view, message) {
  const el = view.elements.get(message.id);
  if (!el) return;
  view.messages.set(message.id, message);
  const fresh = messageView(message);
  fresh.classList.toggle("run-start", el.classList.contains("run-start"));
  fresh.classList.toggle("highlighted", el.classList.contains("highlighted"));
  view.elements.set(message.id, fresh);
  el.replaceWith(fresh);
  carryReaders(el, fresh);
}

/** A message changed (an event, a role): redrawn, unless we are editing it (the form
 * stays; its new state shows when the edit ends). */
export function updateMessage(view, message) {
  const li = view.elements.get(message.id);
  if (!li) return;
  if (li.querySelector(".edit-form") && !message.is_deleted) view.messages.set(message.id, message);
  else replaceMessage(view, message);
}

/** Every shown message drawn again (what we may do to them changed with our role). */
export function redrawMessages(view) {
  for (const message of [...view.messages.values()]) updateMessage(view, message);
}

/** The latest page; on opening, the "new messages" line before the first one unread
 * (scrolled to when the unread run is longer than the screen). */
export async function loadLatest(view, { readUpTo = null } = {}) {
  const data = await api(`/api/v1/chats/${view.id}/messages`, { query: { limit: PAGE } });
  if (state.open !== view) return;
  clearHistory(view);
  insertMessages(view, data.messages, "bottom");
  view.hasMore = data.messages.length === PAGE;
  view.hasNewer = false;
  if (!data.messages.length) showNoMessages(view);
  updateHistoryTop(view);
  const divider = readUpTo === null ? null : markFirstUnread(view, readUpTo);
  scrollToBottom(view);
  if (divider && divider.offsetTop < view.ui.scroller.scrollTop) {
    view.ui.scroller.scrollTop = divider.offsetTop - 8;
    view.stuck = false;
  }
  markRead(view);
  await fillScreen(view);
}

/** The "new messages" line before the first message of others after our read mark. */
function markFirstUnread(view, readUpTo) {
  const first = [...view.messages.values()]
    .filter((m) => m.id > readUpTo && m.sender_id !== state.me && m.kind !== "system")
    .sort((a, b) => a.id - b.id)[0];
  if (!first) return null;
  const divider = h("li", { class: "unread-divider", role: "separator" }, h("span", { text: t("newMessagesLine") }));
  view.elements.get(first.id).before(divider);
  markDays(view);
  return divider;
}

function clearHistory(view) {
  view.messages.clear();
  view.elements.clear();
  view.ui.historyEl.replaceChildren();
}

/**
 * Show a page around message `targetId` in place of the history (a jump to a quote or a
 * pin): older and newer pages load as the reader scrolls either way from there.
 */
export function showAround(view, messages, targetId, limit) {
  clearHistory(view);
  insertMessages(view, messages, "bottom");
  const older = messages.filter((m) => m.id <= targetId).length;
  view.hasMore = older >= Math.floor((limit + 1) / 2);
  view.hasNewer = messages.length - older >= limit - older;
  view.stuck = false;
  updateHistoryTop(view);
}

function updateHistoryTop(view) {
  const top = view.ui.scroller.querySelector(".history-top");
  if (view.loadingOlder) top.textContent = t("loadingOlder");
  else if (!view.hasMore && view.messages.size) top.textContent = t("historyStart");
  else top.textContent = "";
}

/** Load pages until the history overflows its box, so scrolling up can ask for more. */
export async function fillScreen(view) {
  const scroller = view.ui.scroller;
  while (state.open === view && view.hasMore && scroller.scrollHeight <= scroller.clientHeight + 10) {
    if (!(await loadOlder(view))) break;
  }
}

async function loadOlder(view) {
  if (view.loadingOlder || !view.hasMore || !view.messages.size) return false;
  view.loadingOlder = true;
  view.ui.scroller.setAttribute("aria-busy", "true");
  updateHistoryTop(view);
  const oldest = Math.min(...view.messages.keys());
  try {
    const data = await api(`/api/v1/chats/${view.id}/messages`, { query: { before: oldest, limit: PAGE } });
    if (state.open !== view) return false;
    const scroller = view.ui.scroller;
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    insertMessages(view, data.messages, "top");
    view.hasMore = data.messages.length === PAGE;
    // Keep what the reader sees where it was.
    scroller.scrollTop = scroller.scrollHeight - fromBottom;
    return data.messages.length > 0;
  } finally {
    view.loadingOlder = false;
    view.ui.scroller.removeAttribute("aria-busy");
    updateHistoryTop(view);
  }
}

/** After a jump: the page after the newest shown, until the latest is reached. */
export async function loadNewer(view) {
  if (view.loadingNewer || !view.hasNewer || !view.messages.size) return false;
  view.loadingNewer = true;
  view.ui.scroller.setAttribute("aria-busy", "true");
  const newest = Math.max(...view.messages.keys());
  try {
    const data = await api(`/api/v1/chats/${view.id}/messages`, { query: { after: newest, limit: PAGE } });
    if (state.open !== view) return false;
    const scroller = view.ui.scroller;
    const top = scroller.scrollTop;
    insertMessages(view, data.messages, "bottom");
    view.hasNewer = data.messages.length === PAGE;
    scroller.scrollTop = top;
    if (!view.hasNewer) markRead(view);
    return data.messages.length > 0;
  } finally {
    view.loadingNewer = false;
    view.ui.scroller.removeAttribute("aria-busy");
  }
}

/** Mark the open chat read up to its last message, while the page is seen (and the
 * latest messages are shown). */
export async function markRead(view) {
  if (state.open !== view || document.visibilityState !== "visible" || view.hasNewer) return;
  const chat = state.chats.get(view.id);
  if (!chat || !view.messages.size) return;
  const lastId = Math.max(...view.messages.keys());
  if (lastId <= chat.last_read_message_id && chat.unread_count === 0) return;
  chat.last_read_message_id = Math.max(chat.last_read_message_id, lastId);
  chat.unread_count = 0;
  chat.unread_mentions = 0;
  renderChatList();
  try {
    const data = await api(`/api/v1/chats/${view.id}/read`, { method: "POST", body: { message_id: lastId } });
    state.chats.set(data.chat.id, data.chat);
    renderChatList();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
  }
}

/** Coming back to the tab marks the open chat read. */
export function watchVisibility() {
  document.addEventListener("visibilitychange", () => {
    if (state.open) markRead(state.open);
  });
}
