// The profile page: read-only until "Изменить"; saves through the API, errors beside fields.
// The theme picker below the form is not part of that: a choice applies at once (theme.js).

import { api, ApiError, upload } from "./api.js";
import { fullName } from "./dom.js";
import { t } from "./i18n.js";
import { subscribe } from "./events.js";
import "./nav.js";
import { loadSettings, onSettings, setSettings, wirePermissionButton } from "./notify.js";

const form = document.querySelector("[data-profile-form]");
const editButton = form.querySelector("[data-edit]");
const saveButton = form.querySelector("[data-save]");
const cancelButton = form.querySelector("[data-cancel]");
const statusEl = form.querySelector("[data-form-status]");
const avatarInput = form.querySelector("#f-avatar");
const avatarPreview = document.querySelector("[data-avatar-preview]");
const idText = document.querySelector("[data-user-id-text]");
const copyStatus = document.querySelector("[data-copy-status]");
const nameHeading = document.querySelector("[data-profile-name]");

const MAIN = ["first_name", "second_name", "phone_number", "age", "city", "additional_inf"];
const SECURITY = ["email", "password", "password_again", "old_password"];
const ALL = [...MAIN, ...SECURITY];
const field = (name) => form.elements.namedItem(name);

let saved = snapshot();
let previewUrl = null;

function snapshot() {
  return Object.fromEntries(ALL.map((name) => [name, field(name).value]));
}

function setEditing(editing) {
  form.dataset.editing = String(editing);
  for (const name of ALL) field(name).readOnly = !editing;
  avatarInput.disabled = !editing;
  editButton.hidden = editing;
  saveButton.hidden = !editing;
  cancelButton.hidden = !editing;
}

function clearErrors() {
  for (const el of form.querySelectorAll(".is-invalid")) {
    el.classList.remove("is-invalid");
    el.removeAttribute("aria-invalid");
  }
  for (const el of form.querySelectorAll(".invalid-feedback")) el.textContent = "";
  statusEl.className = "alert d-none";
  statusEl.textContent = "";
}

function showFieldError(name, message) {
  if (!name) return false;
  const input = name === "avatar" ? avatarInput : field(name);
  const box = form.querySelector(`#f-${name}-error`);
  if (!input || !box) return false;
  input.classList.add("is-invalid");
  input.setAttribute("aria-invalid", "true");
  box.textContent = message;
  return true;
}

function showStatus(kind, text) {
  statusEl.className = `alert alert-${kind}`;
  statusEl.textContent = text;
}

// Errors the API names by code rather than by field.
const FIELD_OF_CODE = { wrong_password: "old_password", email_taken: "email" };

/**
 * Show an API error beside the fields it names, in the reader's language. A field the
 * form has no input for (an upload's "file") is shown at ``fallbackField``.
 */
function showError(error, fallbackField) {
  if (error instanceof ApiError) {
    const fields = Object.entries(error.fieldTexts);
    let placed = false;
    for (const [name, text] of fields) {
      placed = showFieldError(name, text) || showFieldError(fallbackField, text) || placed;
    }
    if (!fields.length) placed = showFieldError(FIELD_OF_CODE[error.code] || fallbackField, error.text);
    showStatus("danger", placed ? t("checkFields") : error.text);
  } else {
    showStatus("danger", t("somethingWrong"));
  }
  const first = form.querySelector(".is-invalid");
  if (first) first.focus();
}

function render(user) {
  const values = {
    first_name: user.first_name,
    second_name: user.second_name,
    phone_number: user.phone_number || "",
    age: user.age ?? "",
    city: user.city || "",
    additional_inf: user.additional_inf || "",
    email: user.email,
  };
  for (const [name, value] of Object.entries(values)) field(name).value = String(value);
  for (const name of ["password", "password_again", "old_password"]) field(name).value = "";
  nameHeading.textContent = fullName(user);
  idText.textContent = user.user_id;
  document.body.dataset.userId = user.user_id;
  avatarPreview.src = user.avatar;
  document.querySelectorAll("[data-my-avatar]").forEach((img) => (img.src = user.avatar));
  saved = snapshot();
}

function resetAvatarChoice() {
  avatarInput.value = "";
  document.querySelector("[data-avatar-name]").textContent = "";
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = null;
}

editButton.addEventListener("click", () => {
  clearErrors();
  setEditing(true);
  field("first_name").focus();
});

cancelButton.addEventListener("click", () => {
  for (const [name, value] of Object.entries(saved)) field(name).value = value;
  if (previewUrl) avatarPreview.src = avatarPreview.dataset.saved || avatarPreview.src;
  resetAvatarChoice();
  clearErrors();
  setEditing(false);
  editButton.focus();
});

avatarInput.addEventListener("change", () => {
  const file = avatarInput.files[0];
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = null;
  if (!file) return;
  if (!avatarPreview.dataset.saved) avatarPreview.dataset.saved = avatarPreview.src;
  document.querySelector("[data-avatar-name]").textContent = file.name;
  previewUrl = URL.createObjectURL(file);
  avatarPreview.src = previewUrl;
  avatarPreview.alt = t("avatarPreview");
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (form.dataset.editing !== "true") return;
  clearErrors();
  const value = (name) => field(name).value;
  let invalid = false;
  for (const name of ["first_name", "second_name", "email"]) {
    if (!value(name).trim()) invalid = showFieldError(name, t("required")) || invalid;
  }
  if (value("password") !== value("password_again")) invalid = showFieldError("password_again", t("passwordsDiffer")) || invalid;
  const emailChanged = value("email").trim() !== saved.email.trim();
  const passwordChanged = value("password") !== "";
  if ((emailChanged || passwordChanged) && !value("old_password")) {
    invalid = showFieldError("old_password", t("oldPasswordNeeded")) || invalid;
  }
  if (invalid) {
    showStatus("danger", t("checkFields"));
    form.querySelector(".is-invalid")?.focus();
    return;
  }

  const body = {};
  for (const name of MAIN) {
    if (value(name) !== saved[name]) body[name] = name === "age" && value(name) !== "" ? Number(value(name)) : value(name);
  }
  if (emailChanged) body.email = value("email").trim();
  if (passwordChanged) body.password = value("password");
  if (emailChanged || passwordChanged) body.old_password = value("old_password");

  saveButton.disabled = true;
  try {
    let user = null;
    const file = avatarInput.files[0];
    if (file) {
      try {
        user = (await upload("/api/v1/users/me/avatar", file, { method: "PUT" }).promise).user;
        delete avatarPreview.dataset.saved;
        resetAvatarChoice();
      } catch (error) {
        showError(error, "avatar");
        return;
      }
    }
    if (Object.keys(body).length) user = (await api("/api/v1/users/me", { method: "PUT", body })).user;
    if (user) render(user);
    setEditing(false);
    showStatus("success", t("saved"));
    editButton.focus();
  } catch (error) {
    showError(error);
  } finally {
    saveButton.disabled = false;
  }
});

document.querySelector("[data-copy-id]").addEventListener("click", async () => {
  const id = idText.textContent;
  try {
    await navigator.clipboard.writeText(id);
    copyStatus.textContent = t("copied");
  } catch {
    // Without clipboard access, select the ID so the user can copy it by hand.
    const range = document.createRange();
    range.selectNodeContents(idText);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    copyStatus.textContent = document.execCommand && document.execCommand("copy") ? t("copied") : t("copyFailed");
  }
  setTimeout(() => (copyStatus.textContent = ""), 3000);
});

subscribe(async (event) => {
  // Another tab changed the profile: show it, unless the user is editing here.
  if (event.type !== "user.updated" || form.dataset.editing === "true") return;
  try {
    render((await api("/api/v1/users/me")).user);
  } catch {
    /* keep what is shown */
  }
});

setEditing(false);

// The theme: theme.js (in <head>) holds the choice; the radios show it and change it.
const themePicker = document.querySelector("[data-theme-picker]");
const theme = window.messengerTheme;

function showThemeChoice() {
  const radio = themePicker.querySelector(`input[value="${theme.choice}"]`);
  if (radio) radio.checked = true;
}

if (theme) {
  showThemeChoice();
  themePicker.hidden = false;
  themePicker.addEventListener("change", (event) => theme.choose(event.target.value));
  window.addEventListener("themechange", showThemeChoice); // chosen in another tab
}

// Notifications: the browser's permission (asked only on the button), and the account's
// settings, each switch saved as it is flipped and kept in step with the other tabs.
const notifyPanel = document.querySelector("[data-notify-panel]");
if (notifyPanel) {
  const switches = [...notifyPanel.querySelectorAll("[data-setting]")];
  const notifyError = notifyPanel.querySelector("[data-notify-error]");
  const show = (settings) => {
    for (const input of switches) input.checked = Boolean(settings[input.dataset.setting]);
  };
  wirePermissionButton(notifyPanel.querySelector("[data-notify-permission]"), notifyPanel.querySelector("[data-notify-note]"));
  onSettings(show);
  for (const input of switches) {
    input.addEventListener("change", async () => {
      notifyError.textContent = "";
      try {
        const data = await api("/api/v1/settings", { method: "PATCH", body: { [input.dataset.setting]: input.checked } });
        setSettings(data.settings);
      } catch (error) {
        input.checked = !input.checked;
        notifyError.textContent = error instanceof ApiError ? error.text : t("somethingWrong");
      }
    });
  }
  loadSettings().then((settings) => {
    show(settings);
    notifyPanel.hidden = false;
  });
}
