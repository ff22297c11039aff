// The new-group dialog: a title, friends picked with a search, an optional photo (sent
// once the group exists) and whether new members see the history; errors beside their
// fields, in the reader's language.

import { api, ApiError, upload } from "../api.js";
import { errorText, limits, t } from "../i18n.js";
import { friendPicker } from "./friendpicker.js";
import { renderChatList } from "./list.js";
import { hooks, state } from "./state.js";

const dialog = document.querySelector("[data-group-dialog]");
const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];

function fields() {
  const form = dialog.querySelector("[data-group-form]");
  return {
    form,
    title: form.querySelector("[data-group-title]"),
    photo: form.querySelector("[data-group-photo]"),
    photoName: form.querySelector("[data-group-photo-name]"),
    preview: form.querySelector("[data-group-photo-preview]"),
    history: form.querySelector("[data-group-history]"),
    submit: form.querySelector("[data-group-submit]"),
  };
}

function showError(name, text) {
  const el = dialog.querySelector(`[data-error-for="${name}"]`);
  el.textContent = text || "";
  if (name === "title") dialog.querySelector("[data-group-title]").classList.toggle("is-invalid", Boolean(text));
}

function clearErrors() {
  for (const name of ["title", "photo", "member_ids", "form"]) showError(name, "");
}

/** What is wrong before asking the server: one text per field, none when all is well. */
function check(f, picker) {
  const problems = {};
  const title = f.title.value.trim();
  if (!title) problems.title = errorText("empty");
  else if (title.length > limits.group_title_max) problems.title = errorText("too_long", { max: limits.group_title_max });
  if (!picker.selected.size) problems.member_ids = errorText("no_members");
  const file = f.photo.files[0];
  if (file && !IMAGE_TYPES.includes(file.type)) problems.photo = errorText("not_an_image");
  else if (file && file.size > limits.max_upload) problems.photo = errorText("too_large", { max: limits.max_upload });
  return problems;
}

/** An error answer, beside the field it concerns. */
function showApiError(error) {
  if (!(error instanceof ApiError)) return showError("form", t("somethingWrong"));
  const byField = error.fieldTexts;
  if (byField.title) showError("title", byField.title);
  const members = byField.member_ids || byField.user_ids;
  if (members) showError("member_ids", members);
  if (byField.title || members) return;
  if (error.code === "add_only_friends" || error.code === "not_found") showError("member_ids", error.text);
  else showError("form", error.text);
}

/** The photo after the group exists; its failure leaves the group, and says so in it. */
async function sendPhoto(chat, file) {
  try {
    const data = await upload(`/api/v1/chats/${chat.id}/photo`, file, { method: "PUT" }).promise;
    state.chats.set(data.chat.id, data.chat);
    renderChatList();
    hooks.chatChanged(data.chat.id);
  } catch (error) {
    const why = error instanceof ApiError ? Object.values(error.fieldTexts)[0] || error.text : t("uploadFailed");
    if (state.open && state.open.id === chat.id) state.open.ui.errorEl.textContent = t("groupPhotoFailed", { why });
  }
}

async function create(f, picker) {
  clearErrors();
  const problems = check(f, picker);
  for (const [name, text] of Object.entries(problems)) showError(name, text);
  if (Object.keys(problems).length) {
    (problems.title ? f.title : problems.member_ids ? picker.search : f.photo).focus();
    return;
  }
  f.submit.disabled = true;
  try {
    const body = { title: f.title.value.trim(), member_ids: [...picker.selected], history_visible: f.history.checked };
    const data = await api("/api/v1/chats", { method: "POST", body });
    const file = f.photo.files[0];
    state.gone.delete(data.chat.id);
    state.chats.set(data.chat.id, data.chat);
    renderChatList();
    dialog.close();
    await hooks.openChat(data.chat.id);
    if (file) await sendPhoto(data.chat, file);
  } catch (error) {
    showApiError(error);
  } finally {
    f.submit.disabled = false;
  }
}

function showPhoto(f) {
  const file = f.photo.files[0];
  showError("photo", "");
  if (f.preview.dataset.objectUrl) URL.revokeObjectURL(f.preview.dataset.objectUrl);
  if (!file) return;
  const url = URL.createObjectURL(file);
  f.preview.dataset.objectUrl = url;
  f.preview.src = url;
  f.photoName.textContent = file.name;
}

/** The "New group" button opens the dialog, fresh each time. */
export function wireNewGroup() {
  const button = document.querySelector("[data-new-group]");
  if (!dialog || !button) return;
  const f = fields();
  const picker = friendPicker({ label: t("friendsToAdd") });
  dialog.querySelector("[data-group-picker]").replaceWith(picker.el);
  const blank = { src: f.preview.src, name: f.photoName.textContent };
  picker.el.addEventListener("change", () => showError("member_ids", ""));
  f.title.addEventListener("input", () => showError("title", ""));
  f.photo.addEventListener("change", () => showPhoto(f));
  f.form.addEventListener("submit", (event) => {
    event.preventDefault();
    create(f, picker);
  });
  dialog.querySelectorAll("[data-dialog-close]").forEach((el) => el.addEventListener("click", () => dialog.close()));
  button.addEventListener("click", () => {
    f.form.reset();
    clearErrors();
    picker.reset();
    f.preview.src = blank.src;
    f.photoName.textContent = blank.name;
    dialog.showModal();
    f.title.focus();
    picker.load();
  });
}
