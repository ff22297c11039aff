// Actions on messages: deleting ours (or, for a group's admins, anyone's), editing our
// text in place, and the readers of ours in a group.

import { api, ApiError } from "../api.js";
import { h } from "../dom.js";
import { limits, t } from "../i18n.js";
import { showComposerError } from "./composer.js";
import { replaceMessage } from "./history.js";
import { applyToChatList } from "./list.js";
import { toggleReaders } from "./readers.js";
import { paneEl, state } from "./state.js";

/** The message buttons (data-action, drawn by message.js) act through one listener. */
export function wireActions() {
  paneEl.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button || !state.open) return;
    const li = button.closest("li[data-message-id]");
    if (!li) return;
    const id = Number(li.dataset.messageId);
    const view = state.open;
    if (button.dataset.action === "readers") toggleReaders(view, id, button);
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
function finishEdit(view, id) {
  const current = view.messages.get(id);
  replaceMessage(view, current);
  view.elements.get(id)?.querySelector('[data-action="edit"]')?.focus();
}

async function saveEdit(view, message, { textarea, save, error }) {
  const id = message.id;
  const text = textarea.value.trim();
  if (!text) return;
  if (text === message.text) return finishEdit(view, id);
  save.disabled = true;
  try {
    const data = await api(`/api/v1/messages/${id}`, { method: "PUT", body: { text } });
    view.messages.set(id, data.message);
    applyToChatList(data.message);
    finishEdit(view, id);
  } catch (failure) {
    save.disabled = false;
    error.textContent = failure instanceof ApiError ? Object.values(failure.fieldTexts)[0] || failure.text : t("somethingWrong");
  }
}

/** Swap a message's text for a form that edits it (Enter saves, Escape cancels). */
function startEdit(view, id) {
  const message = view.messages.get(id);
  const li = view.elements.get(id);
  if (!message || !li || li.querySelector(".edit-form")) return;
  const textEl = li.querySelector(".message-text");
  const parts = editForm(message);
  const { textarea, cancel, form } = parts;
  cancel.addEventListener("click", () => finishEdit(view, id));
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      finishEdit(view, id);
    } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saveEdit(view, message, parts);
  });
  textEl.replaceWith(form);
  li.querySelector(".message-actions")?.setAttribute("hidden", "");
  textarea.focus();
  textarea.setSelectionRange(textarea.value.length, textarea.value.length);
}
