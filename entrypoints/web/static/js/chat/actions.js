// Actions on messages: editing our text in place (↑ in an empty composer edits the last
// one), deleting for everyone (ours, or anyone's for a group's admins) or for ourselves,
// clearing the chat for ourselves, copying text; and the clicks on a message's parts:
// a quote, a reaction chip, "изменено", "read by N".

import { api, ApiError } from "../api.js";
import { h } from "../dom.js";
import { limits, t } from "../i18n.js";
import { showComposerError } from "./composer.js";
import { showEditHistory } from "./edithistory.js";
import { removeMessage, replaceMessage, updateMessage } from "./history.js";
import { jumpTo } from "./jump.js";
import { applyToChatList, fetchChat, renderChatList, updateChat } from "./list.js";
import { toggleReaction } from "./reactions.js";
import { toggleReaders } from "./readers.js";
import { mayEdit } from "./rules.js";
import { paneEl, state, toast } from "./state.js";

/** The message buttons (data-action, drawn by message.js) act through one listener. */
export function wireActions() {
  paneEl.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button || !state.open) return;
    const li = button.closest("li[data-message-id]");
    if (!li) return;
    const id = Number(li.dataset.messageId);
    const view = state.open;
    switch (button.dataset.action) {
      case "readers":
        toggleReaders(view, id, button);
        break;
      case "edit":
        startEdit(view, id);
        break;
      case "delete":
        deleteForEveryone(view, id);
        break;
      case "jump":
        jumpTo(view, Number(button.dataset.target));
        break;
      case "react":
        toggleReaction(view, id, button.dataset.emoji);
        break;
      case "history":
        showEditHistory(id);
        break;
      default:
        break;
    }
  });
}

/** Delete a message for every member (asked first). */
export async function deleteForEveryone(view, id) {
  if (!window.confirm(t("confirmDelete"))) return;
  try {
    const data = await api(`/api/v1/messages/${id}`, { method: "DELETE" });
    replaceMessage(view, data.message);
    markQuotesGone(view, id);
    applyToChatList(data.message);
  } catch (error) {
    showComposerError(view, error);
  }
}

/** Replies shown to a deleted message: their quotes say it is gone. */
export function markQuotesGone(view, id) {
  for (const message of [...view.messages.values()]) {
    if (message.reply_to && message.reply_to.id === id && !message.reply_to.deleted) {
      updateMessage(view, { ...message, reply_to: { id, deleted: true } });
    }
  }
}

/** A message leaves our history only (asked first); the others keep it. */
export async function deleteForMe(view, id) {
  if (!window.confirm(t("confirmDeleteForMe"))) return;
  try {
    await api(`/api/v1/messages/${id}`, { method: "DELETE", query: { for: "me" } });
    hiddenForMe(view.id, id);
  } catch (error) {
    showComposerError(view, error);
  }
}

/** A message we hid (here or in another tab): out of the history; the chat's last
 * message and counts come afresh. */
export async function hiddenForMe(chatId, messageId) {
  const view = state.open && state.open.id === chatId ? state.open : null;
  if (view) {
    removeMessage(view, messageId);
    markQuotesGone(view, messageId);
  }
  try {
    await fetchChat(chatId);
    renderChatList();
  } catch {
    /* gone: its own event says so */
  }
}

/** Clear the whole chat for ourselves (asked first). */
export async function clearChat(view) {
  if (!window.confirm(t("confirmClear"))) return;
  try {
    const data = await api(`/api/v1/chats/${view.id}/clear`, { method: "POST" });
    cleared(view.id, Infinity);
    updateChat(data.chat);
  } catch (error) {
    toast(error instanceof ApiError ? error.text : t("somethingWrong"));
  }
}

/** The chat was cleared for us up to `throughId`: those messages leave the history
 * (nothing older is left to page to). */
export function cleared(chatId, throughId) {
  const view = state.open && state.open.id === chatId ? state.open : null;
  if (!view) return;
  view.hasMore = false;
  if (throughId === Infinity) view.hasNewer = false;
  for (const id of [...view.messages.keys()]) if (id <= throughId) removeMessage(view, id);
}

export async function copyText(message) {
  try {
    await navigator.clipboard.writeText(message.text);
    toast(t("copied"));
  } catch {
    toast(t("copyFailed"));
  }
}

function editForm(message) {
  const textarea = h("textarea", { class: "form-control edit-input", rows: 3, "aria-label": t("editText"), maxlength: limits.message_max });
  textarea.value = message.text;
  const save = h("button", { type: "submit", class: "btn btn-sm btn-primary", text: t("save") });
  const cancel = h("button", { type: "button", class: "btn btn-sm btn-outline-secondary", text: t("cancel") });
  const error = h("p", { class: "edit-error", role: "alert" });
  const form = h("form", { class: "edit-form" }, textarea, error, h("div", { class: "edit-buttons" }, cancel, save));
  return { textarea, save, cancel, error, form };
}

/** Put the text back into the history, drawn from the message as it now is. */
function finishEdit(view, id, { toComposer = false } = {}) {
  const current = view.messages.get(id);
  replaceMessage(view, current);
  if (toComposer) view.ui.textarea.focus();
  else view.elements.get(id)?.querySelector('[data-action="edit"], [data-action="menu"]')?.focus();
}

async function saveEdit(view, message, { textarea, save, error }, back) {
  const id = message.id;
  const text = textarea.value.trim();
  if (!text) return;
  if (text === message.text) return finishEdit(view, id, back);
  save.disabled = true;
  try {
    const data = await api(`/api/v1/messages/${id}`, { method: "PUT", body: { text } });
    view.messages.set(id, data.message);
    applyToChatList(data.message);
    finishEdit(view, id, back);
  } catch (failure) {
    save.disabled = false;
    error.textContent = failure instanceof ApiError ? Object.values(failure.fieldTexts)[0] || failure.text : t("somethingWrong");
  }
}

/**
 * Swap a message's text for a form that edits it (Enter saves, Escape cancels), scrolled
 * into view with its buttons. `toComposer`: the focus goes back to the composer after
 * (the edit began there, with ↑).
 */
export function startEdit(view, id, { toComposer = false } = {}) {
  const message = view.messages.get(id);
  const li = view.elements.get(id);
  if (!message || !li || li.querySelector(".edit-form")) return;
  const textEl = li.querySelector(".message-text");
  if (!textEl) return;
  const parts = editForm(message);
  const { textarea, cancel, form } = parts;
  const back = { toComposer };
  cancel.addEventListener("click", () => finishEdit(view, id, back));
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      finishEdit(view, id, back);
    } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saveEdit(view, message, parts, back);
  });
  textEl.replaceWith(form);
  li.querySelector(".message-actions")?.setAttribute("hidden", "");
  view.stuck = false;
  textarea.focus({ preventScroll: true });
  textarea.setSelectionRange(textarea.value.length, textarea.value.length);
  form.scrollIntoView({ block: "nearest" });
}

/** ↑ in an empty composer edits our last message that may still be edited. */
export function wireEditLast(view) {
  view.ui.textarea.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowUp" || event.defaultPrevented || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
    if (view.ui.textarea.value !== "" || view.mention) return;
    const last = [...view.messages.values()].filter((m) => mayEdit(m)).sort((a, b) => b.id - a.id)[0];
    if (!last) return;
    event.preventDefault();
    startEdit(view, last.id, { toComposer: true });
  });
}
