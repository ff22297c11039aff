// The top of a group's members panel: its photo, title and member count; for its owner
// and admins also renaming it, changing or removing the photo and whether new members see
// the history.

import { api, ApiError, upload } from "../api.js";
import { avatar, h } from "../dom.js";
import { errorText, limits, t } from "../i18n.js";
import { updateChat } from "./list.js";
import { canManage, groupPhotoUrl, memberCount } from "./people.js";
import { state } from "./state.js";

/** Run a change of the group; its answer redraws everything, its error shows in `errorEl`. */
export async function change(button, errorEl, work) {
  errorEl.textContent = "";
  button.disabled = true;
  try {
    const data = await work();
    if (data && data.chat) updateChat(data.chat);
    return true;
  } catch (error) {
    errorEl.textContent = error instanceof ApiError ? Object.values(error.fieldTexts)[0] || error.text : t("somethingWrong");
    return false;
  } finally {
    button.disabled = false;
  }
}

function renameForm(view, errorEl) {
  const input = h("input", { class: "form-control form-control-sm", id: "group-rename", autocomplete: "off", required: true });
  const save = h("button", { type: "submit", class: "btn btn-sm btn-primary", text: t("save") });
  const form = h("form", { class: "rename-form", novalidate: true },
    h("label", { class: "form-label", for: "group-rename", text: t("groupTitle") }),
    h("div", { class: "rename-row" }, input, save),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const title = input.value.trim();
    if (!title) errorEl.textContent = errorText("empty");
    else if (title.length > limits.group_title_max) errorEl.textContent = errorText("too_long", { max: limits.group_title_max });
    else change(save, errorEl, () => api(`/api/v1/chats/${view.id}`, { method: "PATCH", body: { title } }));
  });
  input.addEventListener("input", () => (errorEl.textContent = ""));
  return { form, input };
}

function photoControls(view, errorEl) {
  const file = h("input", { type: "file", class: "visually-hidden", id: "group-photo-change", accept: "image/png,image/jpeg,image/webp,image/gif" });
  const choose = h("label", { class: "btn btn-sm btn-outline-secondary", for: "group-photo-change", text: t("changePhoto") });
  const remove = h("button", { type: "button", class: "btn btn-sm btn-outline-danger", text: t("removePhoto") });
  file.addEventListener("change", () => {
    const picked = file.files[0];
    file.value = "";
    if (!picked) return;
    change(choose, errorEl, () => upload(`/api/v1/chats/${view.id}/photo`, picked, { method: "PUT" }).promise);
  });
  remove.addEventListener("click", () => {
    if (window.confirm(t("confirmRemovePhoto"))) change(remove, errorEl, () => api(`/api/v1/chats/${view.id}/photo`, { method: "DELETE" }));
  });
  return { el: h("div", { class: "group-photo-actions" }, choose, file, remove), remove };
}

function historySwitch(view, errorEl) {
  const box = h("input", { type: "checkbox", class: "form-check-input", role: "switch", id: "group-history-change" });
  box.addEventListener("change", async () => {
    const wanted = box.checked;
    const body = { history_visible: wanted };
    if (!(await change(box, errorEl, () => api(`/api/v1/chats/${view.id}`, { method: "PATCH", body })))) box.checked = !wanted;
  });
  const el = h("div", { class: "form-check form-switch" }, box,
    h("label", { class: "form-check-label", for: "group-history-change", text: t("historyVisible") }),
  );
  return { el, box };
}

/** The section and `update(chat)`, which shows the group as it now is. */
export function groupInfoView(view) {
  const errorEl = h("p", { class: "field-error", role: "alert" });
  const photo = avatar({ avatar: "" }, 96, "group-avatar");
  const title = h("h3", { class: "group-info-title", dir: "auto" });
  const count = h("p", { class: "group-info-count" });
  const rename = renameForm(view, errorEl);
  const photos = photoControls(view, errorEl);
  const history = historySwitch(view, errorEl);
  const manage = h("div", { class: "group-manage" }, photos.el, rename.form, history.el);
  const el = h("section", { class: "group-info", "aria-labelledby": "members-panel-title" }, photo, title, count, manage, errorEl);
  function update(chat) {
    photo.src = groupPhotoUrl(chat);
    title.textContent = chat.title;
    count.textContent = memberCount(chat);
    manage.hidden = !canManage(chat);
    photos.remove.hidden = !chat.photo;
    if (document.activeElement !== rename.input) rename.input.value = chat.title;
    history.box.checked = chat.history_visible;
  }
  update(state.chats.get(view.id));
  return { el, update };
}
