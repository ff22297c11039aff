// The profile page's account controls: sessions, username, privacy, blocked users, the
// data export and deleting the account. Each applies at once through the API.

import { api, ApiError } from "./api.js";
import { avatar, fileSize, fullTime, h } from "./dom.js";
import { subscribe } from "./events.js";
import { t } from "./i18n.js";
import { displayName, unblockUser } from "./privacy.js";

const $ = (selector) => document.querySelector(selector);
const errorText = (error) => (error instanceof ApiError ? error.text : t("somethingWrong"));

function flash(el, text) {
  el.textContent = text;
  setTimeout(() => {
    if (el.textContent === text) el.textContent = "";
  }, 4000);
}

// --- sessions -----------------------------------------------------------------------

const sessionList = $("[data-session-list]");
const sessionsStatus = $("[data-sessions-status]");

function sessionItem(session) {
  const line = t("sessionLine", {
    ip: session.ip || "—",
    created: fullTime(session.created_date),
    used: fullTime(session.last_used_date),
  });
  const end = session.current
    ? h("span", { class: "badge text-bg-success", text: t("thisSession") })
    : h("button", { type: "button", class: "btn btn-sm btn-outline-danger", text: t("endSession"), "aria-label": `${t("endSession")}: ${session.device || t("unknownDevice")}` });
  if (!session.current) {
    end.addEventListener("click", async () => {
      end.disabled = true;
      try {
        await api(`/api/v1/sessions/${session.id}`, { method: "DELETE" });
        await loadSessions();
      } catch (error) {
        end.disabled = false;
        flash(sessionsStatus, errorText(error));
      }
    });
  }
  return h(
    "li",
    { class: "session", dataset: { sessionId: session.id, current: String(session.current) } },
    h("span", { class: "session-body" }, h("span", { class: "session-device", text: session.device || t("unknownDevice") }), h("span", { class: "session-line small text-body-secondary", text: line })),
    end,
  );
}

async function loadSessions() {
  const data = await api("/api/v1/sessions");
  sessionList.replaceChildren(...data.sessions.map(sessionItem));
  $("[data-end-others]").disabled = data.sessions.length < 2;
}

$("[data-end-others]").addEventListener("click", async (event) => {
  event.currentTarget.disabled = true;
  try {
    const data = await api("/api/v1/sessions", { method: "DELETE", query: { others: "true" } });
    flash(sessionsStatus, t("sessionsEnded", { n: data.ended }));
  } catch (error) {
    flash(sessionsStatus, errorText(error));
  }
  await loadSessions();
});

// --- username -----------------------------------------------------------------------

const usernameForm = $("[data-username-form]");
const usernameInput = usernameForm.elements.namedItem("username");
const usernameStatus = $("[data-username-status]");

function showUsername(username) {
  usernameInput.value = username || "";
  $("[data-username-link]").hidden = !username;
  const link = $("[data-username-href]");
  link.href = `/u/${encodeURIComponent(username || "")}`;
  link.textContent = `/u/${username || ""}`;
}

usernameForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  usernameInput.classList.remove("is-invalid");
  $("#f-username-error").textContent = "";
  const value = usernameInput.value.trim();
  try {
    const data = await api("/api/v1/users/me", { method: "PATCH", body: { username: value || null } });
    showUsername(data.user.username);
    flash(usernameStatus, value ? t("usernameSaved") : t("usernameCleared"));
  } catch (error) {
    usernameInput.classList.add("is-invalid");
    $("#f-username-error").textContent = (error instanceof ApiError && error.fieldTexts.username) || errorText(error);
    usernameInput.focus();
  }
});

// --- privacy ------------------------------------------------------------------------

const privacyForm = $("[data-privacy-form]");
const privacyStatus = $("[data-privacy-status]");
const FLAGS = ["read_receipts", "typing", "forward_link"];

function showPrivacy(settings) {
  privacyForm.elements.namedItem("last_seen").value = settings.last_seen;
  for (const name of FLAGS) privacyForm.elements.namedItem(name).checked = settings[name];
}

privacyForm.addEventListener("change", async (event) => {
  const name = event.target.name;
  const value = name === "last_seen" ? event.target.value : event.target.checked;
  try {
    showPrivacy(await api("/api/v1/users/me/privacy", { method: "PATCH", body: { [name]: value } }));
    flash(privacyStatus, t("privacySaved"));
  } catch (error) {
    flash(privacyStatus, errorText(error));
  }
});

// --- blocked users --------------------------------------------------------------------

const blockedList = $("[data-blocked-list]");

function blockedItem(user) {
  const name = displayName(user);
  const button = h("button", { type: "button", class: "btn btn-sm btn-outline-secondary", text: t("unblock"), "aria-label": `${t("unblock")}: ${name}` });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await unblockUser(user.user_id);
      await loadBlocked();
    } catch {
      button.disabled = false;
    }
  });
  return h(
    "li",
    { class: "person", dataset: { userId: user.user_id } },
    avatar(user, 40),
    h("span", { class: "person-body" }, h("span", { class: "person-name", text: name }), h("span", { class: "person-id", text: user.username ? `@${user.username}` : `ID ${user.user_id}` })),
    h("span", { class: "person-actions" }, button),
  );
}

async function loadBlocked() {
  const data = await api("/api/v1/blocks");
  if (!data.blocks.length) blockedList.replaceChildren(h("li", { class: "people-empty", text: t("noBlocked") }));
  else blockedList.replaceChildren(...data.blocks.map(blockedItem));
}

// --- the data export ------------------------------------------------------------------

const exportStart = $("[data-export-start]");
const exportDownload = $("[data-export-download]");
const exportStatus = $("[data-export-status]");

function showExport(exported) {
  const ready = exported && exported.state === "ready";
  exportDownload.hidden = !ready;
  exportDownload.textContent = t("exportDownload");
  if (ready) exportDownload.href = exported.url;
  exportStatus.textContent = !exported ? "" : ready ? t("exportReady", { size: fileSize(exported.size) }) : t("exportPending");
}

async function loadExport() {
  try {
    showExport((await api("/api/v1/users/me/export")).export);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
    showExport(null);
  }
}

exportStart.addEventListener("click", async () => {
  exportStart.disabled = true;
  try {
    showExport((await api("/api/v1/users/me/export", { method: "POST" })).export);
  } catch (error) {
    exportStatus.textContent = errorText(error);
  } finally {
    exportStart.disabled = false;
  }
});

// --- deleting the account ---------------------------------------------------------------

const deleteForm = $("[data-delete-form]");

deleteForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const password = deleteForm.elements.namedItem("delete_password");
  const feedback = $("#f-delete_password-error");
  password.classList.remove("is-invalid");
  if (!password.value) {
    password.classList.add("is-invalid");
    feedback.textContent = t("required");
    password.focus();
    return;
  }
  if (!window.confirm(t("confirmDeleteAccount"))) return;
  const body = { password: password.value, delete_messages: deleteForm.elements.namedItem("delete_messages").checked };
  try {
    await api("/api/v1/users/me", { method: "DELETE", body });
    location.assign("/register");
  } catch (error) {
    password.classList.add("is-invalid");
    feedback.textContent = errorText(error);
    password.focus();
  }
});

subscribe((event) => {
  if (event.type === "export.ready") loadExport();
});

loadSessions();
loadBlocked();
loadExport();
api("/api/v1/users/me/privacy").then(showPrivacy);
