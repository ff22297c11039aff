// The composer: its form, Enter to send, the length counter, file uploads (picked,
// dropped on the chat or pasted), the reply bar, the draft, and sending. stickers.js wires
// its sticker button and panel.

import { api, ApiError, upload } from "../api.js";
import { debounce, fileSize, h, icon } from "../dom.js";
import { errorText, limits, t } from "../i18n.js";
import { dropDraft, writeDraft } from "./drafts.js";
import { onNewMessage } from "./live.js";
import { forgetMentions, mentionsIn, mentionsView, wireMentions } from "./mentions.js";
import { cancelReply, replyBarView, wireReply } from "./reply.js";

const MAX_ATTACHMENTS = limits.attachments_max;
const maxUpload = limits.max_upload;

function composerButtons() {
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
  return { stickerButton, attachButton, sendButton };
}

/** The composer's form and the parts of it the page works with. */
export function composerView() {
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
  const { stickerButton, attachButton, sendButton } = composerButtons();
  const tray = h("ul", { class: "upload-tray", "aria-label": t("attach") });
  const stickerPanel = h("div", { class: "sticker-panel", id: "sticker-panel", hidden: true, role: "group", "aria-label": t("stickers") });
  const errorEl = h("p", { class: "composer-error", role: "alert" });
  const mentionList = mentionsView();
  const reply = replyBarView();
  const form = h("form", { class: "composer", "aria-label": t("composer") },
    stickerPanel,
    mentionList,
    reply.replyBar,
    tray,
    errorEl,
    h("div", { class: "composer-row" }, attachButton, stickerButton, fileInput, textarea, counter, sendButton),
  );
  return { textarea, counter, fileInput, stickerButton, attachButton, sendButton, tray, stickerPanel, mentionList, errorEl, form, ...reply };
}

export function showComposerError(view, error) {
  const text = error instanceof ApiError ? Object.values(error.fieldTexts)[0] || error.text : t("sendFailed");
  view.ui.errorEl.textContent = text;
}

export function autoGrow(textarea) {
  textarea.style.height = "auto";
  textarea.style.height = `${Math.min(textarea.scrollHeight, 200)}px`;
}

export function wireComposer(view) {
  const ui = view.ui;
  wireMentions(view); // first: while its list is open, Enter chooses a member
  wireReply(view); // Esc lets a reply go (when the mention list did not take it)
  ui.textarea.addEventListener("keydown", (event) => {
    if (event.defaultPrevented) return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.form.requestSubmit();
    }
  });
  const keepDraft = debounce(() => {
    if (view.ui) writeDraft(view);
  }, 300);
  ui.textarea.addEventListener("input", () => {
    ui.errorEl.textContent = "";
    autoGrow(ui.textarea);
    updateCounter(view);
    keepDraft();
  });
  ui.textarea.addEventListener("paste", (event) => pasteFiles(view, event));
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(view);
  });
  ui.attachButton.addEventListener("click", () => ui.fileInput.click());
  ui.fileInput.addEventListener("change", () => {
    addFiles(view, [...ui.fileInput.files]);
    ui.fileInput.value = "";
  });
  wireDrop(view);
}

/** Files on the clipboard (a copied picture, a screenshot) go into the upload tray; text
 * pastes as usual. */
function pasteFiles(view, event) {
  const data = event.clipboardData;
  const files = data ? [...data.files] : [];
  if (!files.length) return;
  if (!data.types.includes("text/plain")) event.preventDefault();
  addFiles(view, files.map((file, i) => (file.name ? file : new File([file], `${t("pastedImage")} ${i + 1}.png`, { type: file.type }))));
}

/** Drag and drop files anywhere on the chat. */
function wireDrop(view) {
  const ui = view.ui;
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

/** An upload's entry in the tray, with its progress, note and remove button. */
function uploadItem(view, file) {
  const item = { file, id: null, status: "uploading", task: null, promise: null };
  item.progress = h("progress", { max: 100, value: 0, "aria-label": t("uploadProgress", { name: file.name }) });
  item.note = h("span", { class: "upload-note" });
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
    item.progress,
    item.note,
    remove,
  );
  remove.addEventListener("click", () => {
    if (item.task) item.task.abort();
    view.uploads = view.uploads.filter((u) => u !== item);
    item.el.remove();
    view.ui.textarea.focus();
  });
  return item;
}

function startUpload(item) {
  const { progress, note } = item;
  item.task = upload("/api/v1/attachments", item.file, {
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

function addFiles(view, files) {
  for (const file of files) {
    if (view.uploads.length >= MAX_ATTACHMENTS) {
      view.ui.errorEl.textContent = t("tooMany");
      break;
    }
    const item = uploadItem(view, file);
    view.uploads.push(item);
    view.ui.tray.append(item.el);
    if (file.size > maxUpload) {
      item.status = "failed";
      item.progress.remove();
      item.note.textContent = t("tooLarge");
      item.el.classList.add("failed");
      continue;
    }
    startUpload(item);
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

/** Send the text and finished uploads, once the uploads still going are done. */
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
    const mentions = text ? mentionsIn(view, text) : [];
    if (mentions.length) body.mentions = mentions;
    if (view.replyTo) body.reply_to_id = view.replyTo.id;
    const data = await api(`/api/v1/chats/${view.id}/messages`, { method: "POST", body });
    ui.textarea.value = "";
    forgetMentions(view);
    cancelReply(view);
    dropDraft(view);
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
