// The chats page: chat list, history with keyset paging, composer, live updates.

import { api, ApiError, upload } from "./api.js";
import {
  avatar,
  clockTime,
  dayLabel,
  debounce,
  fileSize,
  fullName,
  fullTime,
  h,
  icon,
  isoTime,
  shortTime,
} from "./dom.js";
import { onConnection, onResync, subscribe } from "./events.js";
import { errorText, limits, t } from "./i18n.js";
import { setUnreadTotal } from "./nav.js";

const PAGE = 50;
const MAX_ATTACHMENTS = limits.attachments_max;
const body = document.body;
const maxUpload = limits.max_upload;

const listEl = document.querySelector("[data-chat-list]");
const statusEl = document.querySelector("[data-chats-status]");
const paneEl = document.querySelector("[data-chat-pane]");
const emptyEl = document.querySelector("[data-chat-empty]");
const appEl = document.querySelector("main.chat-app");
const lightbox = document.querySelector("[data-lightbox]");
const lightboxImage = document.querySelector("[data-lightbox-image]");

const state = {
  me: body.dataset.userId,
  chats: new Map(), // id → chat as the API shows it
  open: null, // the open chat's view (see openChat)
};

// --- chat list -------------------------------------------------------------------------

function peerOf(chat) {
  return chat.members.find((m) => m.user_id !== state.me) || chat.members[0];
}

function preview(message) {
  if (!message) return "";
  let text;
  if (message.is_deleted) text = t("deleted");
  else if (message.text) text = message.text;
  else if (message.sticker) text = t("sticker");
  else if (message.attachments.length) {
    const first = message.attachments[0];
    text = first.kind === "file" ? `${t("file")}: ${first.name}` : t(first.kind);
  } else text = "";
  return message.sender_id === state.me ? `${t("you")}: ${text}` : text;
}

function sortedChats() {
  return [...state.chats.values()].sort((a, b) => b.last_activity - a.last_activity || b.id - a.id);
}

function renderChatList() {
  const focusedId = document.activeElement && document.activeElement.dataset.chatId;
  const items = sortedChats().map((chat) => {
    const peer = peerOf(chat);
    const last = chat.last_message;
    const unread = chat.unread_count > 0;
    const isOpen = state.open && state.open.id === chat.id;
    return h(
      "li",
      {},
      h(
        "button",
        {
          type: "button",
          class: `chat-item${isOpen ? " active" : ""}${unread ? " has-unread" : ""}`,
          "aria-current": isOpen ? "true" : null,
          dataset: { chatId: chat.id },
          onclick: () => openChat(chat.id),
        },
        avatar(peer, 48),
        h(
          "span",
          { class: "chat-item-body" },
          h(
            "span",
            { class: "chat-item-top" },
            h("span", { class: "chat-item-name", text: peer ? fullName(peer) : chat.title }),
            h("time", {
              class: "chat-item-time",
              datetime: isoTime(last ? last.sending_date : chat.last_activity),
              text: shortTime(last ? last.sending_date : chat.last_activity),
            }),
          ),
          h(
            "span",
            { class: "chat-item-bottom" },
            h("span", { class: `chat-item-preview${last && last.is_deleted ? " fst-italic" : ""}`, dir: "auto", text: preview(last) }),
            unread
              ? h("span", { class: "badge rounded-pill unread-badge", "aria-label": t("unread", { n: chat.unread_count }), text: chat.unread_count })
              : null,
          ),
        ),
      ),
    );
  });
  listEl.replaceChildren(...items);
  statusEl.textContent = state.chats.size ? "" : t("noChats");
  statusEl.hidden = state.chats.size > 0;
  if (focusedId) {
    const again = listEl.querySelector(`[data-chat-id="${CSS.escape(focusedId)}"]`);
    if (again) again.focus();
  }
  updateUnreadTotal();
}

function updateUnreadTotal() {
  let total = 0;
  for (const chat of state.chats.values()) total += chat.unread_count;
  document.title = total > 0 ? `(${total}) ${t("appName")}` : t("appName");
  setUnreadTotal(total);
}

async function loadChats() {
  const data = await api("/api/v1/chats");
  state.chats = new Map(data.chats.map((c) => [c.id, c]));
  renderChatList();
}

async function fetchChat(chatId) {
  const data = await api(`/api/v1/chats/${chatId}`);
  state.chats.set(data.chat.id, data.chat);
  return data.chat;
}

// --- messages --------------------------------------------------------------------------

function attachmentView(attachment) {
  if (attachment.kind === "photo") {
    const src = attachment.thumbnail_url || attachment.url;
    let width = attachment.width || 320;
    let height = attachment.height || 240;
    const scale = Math.min(1, 320 / Math.max(width, height));
    width = Math.round(width * scale);
    height = Math.round(height * scale);
    return h(
      "a",
      {
        class: "attachment attachment-photo",
        href: attachment.url,
        target: "_blank",
        rel: "noopener",
        "aria-label": t("openPhoto", { name: attachment.name }),
        onclick: (event) => {
          if (event.ctrlKey || event.metaKey || event.shiftKey || !lightbox.showModal) return;
          event.preventDefault();
          lightboxImage.src = attachment.url;
          lightboxImage.alt = attachment.name;
          lightbox.showModal();
        },
      },
      h("img", { src, alt: attachment.name, width, height, loading: "lazy", decoding: "async" }),
    );
  }
  if (attachment.kind === "video") {
    return h(
      "figure",
      { class: "attachment attachment-video" },
      h("video", { src: attachment.url, controls: true, preload: "metadata", "aria-label": attachment.name }),
      h("figcaption", { text: attachment.name }),
    );
  }
  if (attachment.kind === "audio") {
    return h(
      "figure",
      { class: "attachment attachment-audio" },
      h("figcaption", { text: attachment.name }),
      h("audio", { src: attachment.url, controls: true, preload: "metadata", "aria-label": attachment.name }),
    );
  }
  return h(
    "a",
    { class: "attachment attachment-file", href: attachment.url, download: attachment.name },
    icon("file", "file-icon"),
    h(
      "span",
      { class: "file-body" },
      h("span", { class: "file-name", text: attachment.name }),
      h("span", { class: "file-size", text: `${fileSize(attachment.size)} · ${t("download")}` }),
    ),
  );
}

function messageView(message) {
  const own = message.sender_id === state.me;
  const isSticker = !message.is_deleted && message.sticker && !message.text && !message.attachments.length;
  const classes = ["message", own ? "own" : "theirs"];
  if (message.is_deleted) classes.push("deleted");
  if (isSticker) classes.push("sticker-message");
  const content = [];
  if (message.is_deleted) {
    content.push(h("p", { class: "message-text message-tombstone", text: t("deleted") }));
  } else {
    if (message.sticker) {
      content.push(h("img", { class: "sticker", src: message.sticker.url, alt: t("sticker"), width: 128, height: 128 }));
    }
    if (message.attachments.length) {
      content.push(h("div", { class: "attachments" }, message.attachments.map(attachmentView)));
    }
    if (message.text) content.push(h("p", { class: "message-text", dir: "auto", text: message.text }));
  }
  const meta = h(
    "span",
    { class: "message-meta" },
    message.edited_date && !message.is_deleted ? h("span", { class: "message-edited", text: t("edited") }) : null,
    h("time", { datetime: isoTime(message.sending_date), title: fullTime(message.sending_date), text: clockTime(message.sending_date) }),
    own && !message.is_deleted
      ? h("span", {
          class: `read-mark${message.is_read ? " is-read" : ""}`,
        }, icon(message.is_read ? "check-double" : "check", "icon-sm"), message.is_read ? t("read") : t("sent"))
      : null,
  );
  const actions =
    own && !message.is_deleted
      ? h(
          "div",
          { class: "message-actions" },
          message.text
            ? h("button", {
                type: "button",
                class: "icon-button",
                "aria-label": t("editMessage"),
                title: t("editMessage"),
                dataset: { action: "edit" },
              }, icon("edit"))
            : null,
          h("button", {
            type: "button",
            class: "icon-button",
            "aria-label": t("deleteMessage"),
            title: t("deleteMessage"),
            dataset: { action: "delete" },
          }, icon("trash")),
        )
      : null;
  return h(
    "li",
    { class: classes.join(" "), dataset: { messageId: message.id } },
    h("div", { class: "bubble" }, content, meta),
    actions,
  );
}

// --- the open chat ---------------------------------------------------------------------

function buildPane(chat) {
  const peer = peerOf(chat);
  const historyEl = h("ol", { class: "history", "aria-label": t("history") });
  const scroller = h("div", { class: "history-scroller", tabindex: "0", role: "log", "aria-live": "polite" },
    h("p", { class: "history-top", role: "status" }),
    historyEl,
  );
  const textarea = h("textarea", {
    class: "composer-input form-control",
    id: "composer-text",
    rows: 1,
    placeholder: t("messagePlaceholder"),
    "aria-label": t("message"),
    "aria-describedby": "composer-counter",
  });
  // No maxlength: pasted text is never cut silently; the counter says how far over it is.
  const counter = h("span", { class: "composer-counter", id: "composer-counter", "aria-live": "polite", hidden: true });
  const fileInput = h("input", { type: "file", multiple: true, hidden: true, "aria-label": t("attach"), "data-file-input": true });
  const stickerButton = h("button", {
    type: "button",
    class: "icon-button composer-button",
    "aria-label": t("stickers"),
    title: t("stickers"),
    "aria-expanded": "false",
    "aria-controls": "sticker-panel",
  }, icon("smile"));
  const attachButton = h("button", {
    type: "button",
    class: "icon-button composer-button",
    "aria-label": t("attach"),
    title: t("attach"),
  }, icon("paperclip"));
  const sendButton = h("button", { type: "submit", class: "btn btn-primary send-button", "aria-label": t("send"), title: t("send") },
    icon("send"),
  );
  const tray = h("ul", { class: "upload-tray", "aria-label": t("attach") });
  const stickerPanel = h("div", { class: "sticker-panel", id: "sticker-panel", hidden: true, role: "group", "aria-label": t("stickers") });
  const errorEl = h("p", { class: "composer-error", role: "alert" });
  const form = h("form", { class: "composer", "aria-label": t("composer") },
    stickerPanel,
    tray,
    errorEl,
    h("div", { class: "composer-row" }, attachButton, stickerButton, fileInput, textarea, counter, sendButton),
  );
  const header = h(
    "header",
    { class: "chat-header" },
    h("button", { type: "button", class: "icon-button back-button", "aria-label": t("backToChats"), title: t("backToChats"), onclick: closeChat }, icon("arrow-left")),
    avatar(peer, 40),
    h("div", { class: "chat-header-text" }, h("h2", { class: "chat-title", text: peer ? fullName(peer) : chat.title }),
      h("p", { class: "chat-subtitle", text: peer ? `ID ${peer.user_id}` : "" })),
  );
  const dropHint = h("div", { class: "drop-hint", "aria-hidden": "true", text: t("dropHere") });
  const pane = h("div", { class: "chat-view" }, header, scroller, form, dropHint);
  return { pane, header, scroller, historyEl, textarea, counter, fileInput, stickerButton, attachButton, sendButton, tray, stickerPanel, errorEl, form };
}

async function openChat(chatId, { focus = true } = {}) {
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
  renderChatList();
  await loadLatest(view);
  if (focus) view.ui.textarea.focus();
}

function closeChat() {
  appEl.classList.remove("show-pane");
  const button = state.open && listEl.querySelector(`[data-chat-id="${state.open.id}"]`);
  if (button) button.focus();
}

function showEmpty(message) {
  paneEl.querySelector(".chat-view")?.remove();
  state.open = null;
  emptyEl.hidden = false;
  if (message) emptyEl.querySelector("p").textContent = message;
  appEl.classList.remove("show-pane");
  history.replaceState(null, "", "/");
}

function nearBottom(scroller) {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 150;
}

function scrollToBottom(view) {
  view.ui.scroller.scrollTop = view.ui.scroller.scrollHeight;
}

function insertMessages(view, messages, where) {
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

/** A date line before the first message of each day. */
function markDays(view) {
  const list = view.ui.historyEl;
  list.querySelectorAll(".day-separator").forEach((el) => el.remove());
  let previous = "";
  for (const li of [...list.children]) {
    const message = view.messages.get(Number(li.dataset.messageId));
    if (!message) continue;
    const day = dayLabel(message.sending_date);
    if (day !== previous) {
      li.before(h("li", { class: "day-separator", role: "separator" }, h("span", { text: day })));
      previous = day;
    }
  }
}

function replaceMessage(view, message) {
  const el = view.elements.get(message.id);
  if (!el) return;
  view.messages.set(message.id, message);
  const fresh = messageView(message);
  view.elements.set(message.id, fresh);
  el.replaceWith(fresh);
}

async function loadLatest(view) {
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

async function markRead(view) {
  if (state.open !== view || document.visibilityState !== "visible") return;
  const chat = state.chats.get(view.id);
  if (!chat || !view.messages.size) return;
  const lastId = Math.max(...view.messages.keys());
  if (lastId <= chat.last_read_message_id && chat.unread_count === 0) return;
  chat.last_read_message_id = Math.max(chat.last_read_message_id, lastId);
  chat.unread_count = 0;
  renderChatList();
  try {
    const data = await api(`/api/v1/chats/${view.id}/read`, { method: "POST", body: { message_id: lastId } });
    state.chats.set(data.chat.id, data.chat);
    renderChatList();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
  }
}

document.addEventListener("visibilitychange", () => {
  if (state.open) markRead(state.open);
});

// --- message actions -------------------------------------------------------------------

paneEl.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button || !state.open) return;
  const li = button.closest("li[data-message-id]");
  const id = Number(li.dataset.messageId);
  const view = state.open;
  if (button.dataset.action === "edit") startEdit(view, id);
  if (button.dataset.action === "delete") {
    if (!window.confirm(t("confirmDelete"))) return;
    try {
      const data = await api(`/api/v1/messages/${id}`, { method: "DELETE" });
      replaceMessage(view, data.message);
      applyToChatList(data.message);
    } catch (error) {
      showComposerError(view, error);
    }
  }
});

function startEdit(view, id) {
  const message = view.messages.get(id);
  const li = view.elements.get(id);
  if (!message || !li || li.querySelector(".edit-form")) return;
  const textEl = li.querySelector(".message-text");
  const textarea = h("textarea", { class: "form-control edit-input", rows: 3, "aria-label": t("editText"), maxlength: limits.message_max });
  textarea.value = message.text;
  const save = h("button", { type: "submit", class: "btn btn-sm btn-primary", text: t("save") });
  const cancel = h("button", { type: "button", class: "btn btn-sm btn-outline-secondary", text: t("cancel") });
  const error = h("p", { class: "edit-error", role: "alert" });
  const form = h("form", { class: "edit-form" }, textarea, error, h("div", { class: "edit-buttons" }, cancel, save));
  const finish = () => {
    const current = view.messages.get(id);
    replaceMessage(view, current);
    view.elements.get(id)?.querySelector('[data-action="edit"]')?.focus();
  };
  cancel.addEventListener("click", finish);
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      finish();
    } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = textarea.value.trim();
    if (!text) return;
    if (text === message.text) return finish();
    save.disabled = true;
    try {
      const data = await api(`/api/v1/messages/${id}`, { method: "PUT", body: { text } });
      view.messages.set(id, data.message);
      applyToChatList(data.message);
      finish();
    } catch (failure) {
      save.disabled = false;
      error.textContent = failure instanceof ApiError ? Object.values(failure.fieldTexts)[0] || failure.text : t("somethingWrong");
    }
  });
  textEl.replaceWith(form);
  li.querySelector(".message-actions")?.setAttribute("hidden", "");
  textarea.focus();
  textarea.setSelectionRange(textarea.value.length, textarea.value.length);
}

// --- composer --------------------------------------------------------------------------

function showComposerError(view, error) {
  const text = error instanceof ApiError ? Object.values(error.fieldTexts)[0] || error.text : t("sendFailed");
  view.ui.errorEl.textContent = text;
}

function autoGrow(textarea) {
  textarea.style.height = "auto";
  textarea.style.height = `${Math.min(textarea.scrollHeight, 200)}px`;
}

function wireComposer(view) {
  const ui = view.ui;
  ui.textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.form.requestSubmit();
    }
  });
  ui.textarea.addEventListener("input", () => {
    ui.errorEl.textContent = "";
    autoGrow(ui.textarea);
    updateCounter(view);
  });
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(view);
  });
  ui.attachButton.addEventListener("click", () => ui.fileInput.click());
  ui.fileInput.addEventListener("change", () => {
    addFiles(view, [...ui.fileInput.files]);
    ui.fileInput.value = "";
  });
  ui.stickerButton.addEventListener("click", () => toggleStickers(view));
  ui.stickerPanel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      toggleStickers(view, false);
      ui.stickerButton.focus();
    }
  });
  ui.scroller.addEventListener("scroll", debounce(() => {
    if (ui.scroller.scrollTop < 300) loadOlder(view).then(() => fillScreen(view));
  }, 50));
  // Drag and drop files anywhere on the chat.
  let depth = 0;
  ui.pane.addEventListener("dragenter", (event) => {
    if (!event.dataTransfer || ![...event.dataTransfer.types].includes("Files")) return;
    event.preventDefault();
    depth += 1;
    ui.pane.classList.add("dragging");
  });
  ui.pane.addEventListener("dragover", (event) => {
    if (event.dataTransfer && [...event.dataTransfer.types].includes("Files")) event.preventDefault();
  });
  ui.pane.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) ui.pane.classList.remove("dragging");
  });
  ui.pane.addEventListener("drop", (event) => {
    event.preventDefault();
    depth = 0;
    ui.pane.classList.remove("dragging");
    if (event.dataTransfer && event.dataTransfer.files.length) addFiles(view, [...event.dataTransfer.files]);
  });
}

function addFiles(view, files) {
  for (const file of files) {
    if (view.uploads.length >= MAX_ATTACHMENTS) {
      view.ui.errorEl.textContent = t("tooMany");
      break;
    }
    const item = { file, id: null, status: "uploading", task: null, promise: null };
    const progress = h("progress", { max: 100, value: 0, "aria-label": t("uploadProgress", { name: file.name }) });
    const note = h("span", { class: "upload-note" });
    const remove = h("button", {
      type: "button",
      class: "btn-close upload-remove",
      "aria-label": t("removeFile", { name: file.name }),
      title: t("removeFile", { name: file.name }),
    });
    item.el = h(
      "li",
      { class: "upload-item" },
      h("span", { class: "upload-name", text: file.name }),
      h("span", { class: "upload-size", text: fileSize(file.size) }),
      progress,
      note,
      remove,
    );
    remove.addEventListener("click", () => {
      if (item.task) item.task.abort();
      view.uploads = view.uploads.filter((u) => u !== item);
      item.el.remove();
      view.ui.textarea.focus();
    });
    view.uploads.push(item);
    view.ui.tray.append(item.el);
    if (file.size > maxUpload) {
      item.status = "failed";
      progress.remove();
      note.textContent = t("tooLarge");
      item.el.classList.add("failed");
      continue;
    }
    item.task = upload("/api/v1/attachments", file, {
      onProgress: (fraction) => {
        progress.value = Math.round(fraction * 100);
      },
    });
    item.promise = item.task.promise.then(
      (data) => {
        item.id = data.attachment.id;
        item.status = "done";
        progress.value = 100;
        item.el.classList.add("done");
      },
      (error) => {
        if (item.task.aborted) return;
        item.status = "failed";
        note.textContent = error instanceof ApiError && error.status === 413 ? t("tooLarge") : t("uploadFailed");
        item.el.classList.add("failed");
      },
    );
  }
}

/** Show the length near and past the limit; past it, say so and hold the message back. */
function updateCounter(view) {
  const { counter, errorEl } = view.ui;
  const length = view.ui.textarea.value.trim().length;
  const max = limits.message_max;
  const over = length > max;
  counter.hidden = length < max * 0.9;
  counter.textContent = `${length} / ${max}`;
  counter.classList.toggle("is-over", over);
  if (over) errorEl.textContent = errorText("too_long", { max });
  return over;
}

async function send(view) {
  if (view.sending) return;
  const ui = view.ui;
  if (updateCounter(view)) return;
  const text = ui.textarea.value.trim();
  const waiting = view.uploads.filter((u) => u.status === "uploading").map((u) => u.promise);
  view.sending = true;
  ui.sendButton.disabled = true;
  try {
    if (waiting.length) await Promise.all(waiting);
    const ready = view.uploads.filter((u) => u.status === "done");
    if (!text && !ready.length) return;
    const body = { text: text || null, attachment_ids: ready.map((u) => u.id) };
    const data = await api(`/api/v1/chats/${view.id}/messages`, { method: "POST", body });
    ui.textarea.value = "";
    autoGrow(ui.textarea);
    updateCounter(view);
    for (const item of ready) item.el.remove();
    view.uploads = view.uploads.filter((u) => !ready.includes(u));
    ui.errorEl.textContent = "";
    onNewMessage(data.message);
  } catch (error) {
    showComposerError(view, error);
  } finally {
    view.sending = false;
    ui.sendButton.disabled = false;
  }
}

let stickerPacks = null;

async function toggleStickers(view, show) {
  const ui = view.ui;
  const open = show ?? ui.stickerPanel.hidden;
  ui.stickerPanel.hidden = !open;
  ui.stickerButton.setAttribute("aria-expanded", String(open));
  if (!open) return;
  if (!stickerPacks) {
    ui.stickerPanel.replaceChildren(h("p", { class: "sticker-empty", text: "…" }));
    try {
      stickerPacks = (await api("/api/v1/stickers")).packs;
    } catch (error) {
      ui.stickerPanel.replaceChildren(h("p", { class: "sticker-empty", text: t("somethingWrong") }));
      return;
    }
  }
  if (!stickerPacks.length) {
    ui.stickerPanel.replaceChildren(h("p", { class: "sticker-empty", text: t("noStickers") }));
    return;
  }
  ui.stickerPanel.replaceChildren(
    ...stickerPacks.map((pack) =>
      h(
        "section",
        { class: "sticker-pack" },
        h("h3", { class: "sticker-pack-title", text: pack.title }),
        h(
          "div",
          { class: "sticker-grid" },
          pack.stickers.map((sticker, index) =>
            h(
              "button",
              {
                type: "button",
                class: "sticker-choice",
                "aria-label": `${t("sticker")} ${index + 1} · ${pack.title}`,
                dataset: { stickerId: sticker.id },
                onclick: () => sendSticker(view, sticker.id),
              },
              h("img", { src: sticker.url, alt: "", width: 64, height: 64, loading: "lazy" }),
            ),
          ),
        ),
      ),
    ),
  );
  ui.stickerPanel.querySelector("button")?.focus();
}

async function sendSticker(view, stickerId) {
  toggleStickers(view, false);
  try {
    const data = await api(`/api/v1/chats/${view.id}/messages`, { method: "POST", body: { sticker_id: stickerId } });
    onNewMessage(data.message);
  } catch (error) {
    showComposerError(view, error);
  }
  view.ui.textarea.focus();
}

// --- live updates ----------------------------------------------------------------------

function applyToChatList(message) {
  const chat = state.chats.get(message.chat_id);
  if (chat && chat.last_message && chat.last_message.id === message.id) {
    chat.last_message = message;
    renderChatList();
  }
}

async function onNewMessage(message) {
  let chat = state.chats.get(message.chat_id);
  const view = state.open && state.open.id === message.chat_id ? state.open : null;
  if (view && !view.messages.has(message.id)) {
    const stick = message.sender_id === state.me || nearBottom(view.ui.scroller);
    insertMessages(view, [message], "bottom");
    if (stick) scrollToBottom(view);
  }
  if (!chat) {
    try {
      chat = await fetchChat(message.chat_id);
    } catch {
      return;
    }
  } else if (!chat.last_message || chat.last_message.id <= message.id) {
    const isNew = !chat.last_message || chat.last_message.id < message.id;
    chat.last_message = message;
    chat.last_activity = Math.max(chat.last_activity, message.sending_date);
    if (isNew && message.sender_id !== state.me) chat.unread_count += 1;
    if (message.sender_id === state.me) chat.last_read_message_id = Math.max(chat.last_read_message_id, message.id);
  }
  renderChatList();
  if (view && message.sender_id !== state.me) markRead(view);
}

function onChangedMessage(message) {
  const view = state.open && state.open.id === message.chat_id ? state.open : null;
  if (view && view.elements.has(message.id)) {
    const li = view.elements.get(message.id);
    if (li.querySelector(".edit-form") && !message.is_deleted) view.messages.set(message.id, message);
    else replaceMessage(view, message);
  }
  applyToChatList(message);
}

async function onChatRead(data) {
  if (data.user_id === state.me) {
    // Read in another tab of ours: take the counts from the server.
    try {
      await fetchChat(data.chat_id);
      renderChatList();
    } catch {
      /* the chat may be gone */
    }
    return;
  }
  const view = state.open && state.open.id === data.chat_id ? state.open : null;
  if (view) {
    for (const [id, message] of view.messages) {
      if (id <= data.message_id && message.sender_id === state.me && !message.is_read && !message.is_deleted) {
        replaceMessage(view, { ...message, is_read: true });
      }
    }
  }
  const chat = state.chats.get(data.chat_id);
  if (chat && chat.last_message && chat.last_message.id <= data.message_id) chat.last_message.is_read = true;
}

async function onUserUpdated() {
  try {
    const me = await api("/api/v1/users/me");
    state.me = me.user.user_id;
    document.querySelectorAll("[data-my-avatar]").forEach((img) => (img.src = me.user.avatar));
    await loadChats();
    if (state.open) {
      const chat = state.chats.get(state.open.id);
      const peer = chat && peerOf(chat);
      if (peer) {
        state.open.ui.header.querySelector(".chat-title").textContent = fullName(peer);
        state.open.ui.header.querySelector("img.avatar").src = peer.avatar;
      }
    }
  } catch {
    /* the next event or reload brings it */
  }
}

subscribe((event) => {
  const data = event.data;
  switch (event.type) {
    case "message.new":
      onNewMessage(data.message);
      break;
    case "message.edited":
    case "message.deleted":
      onChangedMessage(data.message);
      break;
    case "chat.read":
      onChatRead(data);
      break;
    case "chat.deleted":
      state.chats.delete(data.chat_id);
      if (state.open && state.open.id === data.chat_id) showEmpty(t("chatDeleted"));
      renderChatList();
      break;
    case "user.updated":
      onUserUpdated();
      break;
    case "friend.accepted":
    case "friend.removed":
      loadChats().catch(() => {});
      break;
    default:
      break;
  }
});

onResync(async () => {
  await loadChats();
  if (state.open) {
    const id = state.open.id;
    state.open = null;
    if (state.chats.has(id)) await openChat(id, { focus: false });
    else showEmpty(t("chatDeleted"));
  }
});

const offline = h("p", { class: "connection-banner", role: "status", hidden: true, text: t("reconnecting") });
document.body.append(offline);
onConnection((online) => {
  offline.hidden = online;
});

// --- start -----------------------------------------------------------------------------

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

lightbox?.addEventListener("click", (event) => {
  if (event.target === lightbox) lightbox.close();
});

start();
