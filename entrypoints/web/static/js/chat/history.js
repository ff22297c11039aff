// The open chat's history: its scroller, keyset paging, day separators and read marks;
// closing the pane or showing the empty one instead.

import { api, ApiError } from "../api.js";
import { dayLabel, debounce, h } from "../dom.js";
import { t } from "../i18n.js";
import { renderChatList } from "./list.js";
import { messageView } from "./message.js";
import { appEl, emptyEl, listEl, PAGE, paneEl, state } from "./state.js";

/** The scroller with its top line (loading, start of history) and the message list. */
export function historyView() {
  const historyEl = h("ol", { class: "history", "aria-label": t("history") });
  const scroller = h("div", { class: "history-scroller", tabindex: "0", role: "log", "aria-live": "polite" },
    h("p", { class: "history-top", role: "status" }),
    historyEl,
  );
  return { scroller, historyEl };
}

/** Scrolling near the top loads older pages. */
export function wireHistory(view) {
  const ui = view.ui;
  ui.scroller.addEventListener("scroll", debounce(() => {
    if (ui.scroller.scrollTop < 300) loadOlder(view).then(() => fillScreen(view));
  }, 50));
}

/** Back to the list (on phones, where the pane covers it). */
export function closeChat() {
  appEl.classList.remove("show-pane");
  const button = state.open && listEl.querySelector(`[data-chat-id="${state.open.id}"]`);
  if (button) button.focus();
}

/** Close the open chat and show the empty pane, with `message` if given. */
export function showEmpty(message) {
  paneEl.querySelector(".chat-view")?.remove();
  state.open = null;
  emptyEl.hidden = false;
  if (message) emptyEl.querySelector("p").textContent = message;
  appEl.classList.remove("show-pane");
  history.replaceState(null, "", "/");
}

export function nearBottom(scroller) {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 150;
}

export function scrollToBottom(view) {
  view.ui.scroller.scrollTop = view.ui.scroller.scrollHeight;
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
    for (const node of nodes) {
      const id = Number(node.dataset.messageId);
      const after = [...view.ui.historyEl.children].find((li) => Number(li.dataset.messageId) > id);
      view.ui.historyEl.insertBefore(node, after || null);
    }
  }
  view.ui.historyEl.querySelector(".history-empty")?.remove();
  markDays(view);
  return fresh.length;
}

/**
 * A date line before the first message of each day; and the first message of each run of
 * one person's (a new day or a system line starts a run) is marked, for groups to show
 * the sender over it.
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
      li.before(h("li", { class: "day-separator", role: "separator" }, h("span", { text: day })));
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
  view.elements.set(message.id, fresh);
  el.replaceWith(fresh);
}

export async function loadLatest(view) {
  const data = await api(`/api/v1/chats/${view.id}/messages`, { query: { limit: PAGE } });
  if (state.open !== view) return;
  insertMessages(view, data.messages, "bottom");
  view.hasMore = data.messages.length === PAGE;
  if (!data.messages.length) {
    view.ui.historyEl.append(h("li", { class: "history-empty", text: t("noMessages") }));
  }
  updateHistoryTop(view);
  scrollToBottom(view);
  markRead(view);
  await fillScreen(view);
}

function updateHistoryTop(view) {
  const top = view.ui.scroller.querySelector(".history-top");
  if (view.loadingOlder) top.textContent = t("loadingOlder");
  else if (!view.hasMore && view.messages.size) top.textContent = t("historyStart");
  else top.textContent = "";
}

/** Load pages until the history overflows its box, so scrolling up can ask for more. */
async function fillScreen(view) {
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

/** Mark the open chat read up to its last message, while the page is seen. */
export async function markRead(view) {
  if (state.open !== view || document.visibilityState !== "visible") return;
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
