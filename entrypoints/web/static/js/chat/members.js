// A group's members panel, opened from its header: beside the chat on wide screens, a
// full-screen sheet on phones. Each member with avatar, name and role, and the actions
// our role allows: the owner gives roles and hands the group over, owner and admins add
// friends and remove members, anyone leaves; the owner deletes the group.

import { api } from "../api.js";
import { avatar, fullName, h, icon } from "../dom.js";
import { t } from "../i18n.js";
import { friendPicker } from "./friendpicker.js";
import { dropChat } from "./groupevents.js";
import { canManage, roleName } from "./people.js";
import { change, groupInfoView } from "./groupsettings.js";
import { state } from "./state.js";

const ROLE_ORDER = { owner: 0, admin: 1, member: 2 };

/** What we may do to member `m` (none to ourselves: leaving is at the bottom). */
function actionsFor(chat, m) {
  if (m.user_id === state.me) return [];
  const name = fullName(m);
  const path = `/api/v1/chats/${chat.id}/members/${encodeURIComponent(m.user_id)}`;
  const role = (wanted) => () => api(path, { method: "PATCH", body: { role: wanted } });
  const actions = [];
  if (chat.my_role === "owner") {
    if (m.role === "member") actions.push({ label: t("makeAdmin"), work: role("admin") });
    if (m.role === "admin") actions.push({ label: t("makeMember"), work: role("member") });
    actions.push({ label: t("makeOwner"), confirm: t("confirmMakeOwner", { name }), work: role("owner") });
  }
  if (chat.my_role === "owner" || (chat.my_role === "admin" && m.role === "member")) {
    actions.push({ label: t("removeMember"), confirm: t("confirmRemoveMember", { name }), work: () => api(path, { method: "DELETE" }), danger: true });
  }
  return actions;
}

function memberItem(panel, chat, m) {
  const name = fullName(m);
  const actions = actionsFor(chat, m);
  const open = panel.expanded === m.user_id;
  const menu = h("div", { class: "member-actions", hidden: !open },
    actions.map((a) => {
      const button = h("button", { type: "button", class: `btn btn-sm ${a.danger ? "btn-outline-danger" : "btn-outline-secondary"}`, text: a.label, "aria-label": `${a.label}: ${name}` });
      button.addEventListener("click", () => {
        if (a.confirm && !window.confirm(a.confirm)) return;
        panel.expanded = null;
        change(button, panel.errorEl, a.work);
      });
      return button;
    }),
  );
  const more = actions.length
    ? h("button", { type: "button", class: "icon-button member-more", "aria-expanded": String(open), "aria-label": `${t("memberActions")}: ${name}`, title: t("memberActions"), dataset: { memberMenu: m.user_id } }, icon("more"))
    : null;
  more?.addEventListener("click", () => {
    panel.expanded = panel.expanded === m.user_id ? null : m.user_id;
    render(panel);
  });
  return h("li", { class: "member", dataset: { userId: m.user_id } },
    h("div", { class: "member-row" },
      avatar(m, 40),
      h("span", { class: "member-body" },
        h("span", { class: "member-name", text: m.user_id === state.me ? `${name} (${t("youObject")})` : name }),
        h("span", { class: `member-role role-${m.role}`, text: roleName(m.role) }),
      ),
      more,
    ),
    actions.length ? menu : null,
  );
}

/** The "add members" part: friends not in the group, picked and added at once. */
function addMembersView(panel) {
  const picker = friendPicker({ label: t("friendsToAdd") });
  const add = h("button", { type: "submit", class: "btn btn-sm btn-primary", text: t("addChosen") });
  const cancel = h("button", { type: "button", class: "btn btn-sm btn-outline-secondary", text: t("cancel") });
  const form = h("form", { class: "add-members", hidden: true, "aria-label": t("addMembers") }, picker.el, h("div", { class: "add-members-buttons" }, cancel, add));
  const toggle = h("button", { type: "button", class: "btn btn-sm btn-outline-primary add-members-toggle", "aria-expanded": "false" }, icon("user-plus", "icon-sm"), t("addMembers"));
  const show = (open) => {
    form.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (!open) return;
    picker.reset();
    picker.load(new Set(state.chats.get(panel.view.id).members.map((m) => m.user_id)));
    picker.search.focus();
  };
  toggle.addEventListener("click", () => show(form.hidden));
  cancel.addEventListener("click", () => show(false));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!picker.selected.size) return;
    const body = { user_ids: [...picker.selected] };
    if (await change(add, panel.errorEl, () => api(`/api/v1/chats/${panel.view.id}/members`, { method: "POST", body }))) show(false);
  });
  return { toggle, form };
}

function leaveAndDelete(panel) {
  const id = panel.view.id;
  const leave = h("button", { type: "button", class: "btn btn-sm btn-outline-danger" }, icon("log-out", "icon-sm"), t("leaveGroup"));
  const remove = h("button", { type: "button", class: "btn btn-sm btn-danger" }, icon("trash", "icon-sm"), t("deleteGroup"));
  leave.addEventListener("click", async () => {
    if (!window.confirm(t("confirmLeave", { title: state.chats.get(id).title }))) return;
    if (await change(leave, panel.errorEl, () => api(`/api/v1/chats/${id}/members/me`, { method: "DELETE" }))) dropChat(id, t("youLeft"));
  });
  remove.addEventListener("click", async () => {
    if (!window.confirm(t("confirmDeleteGroup", { title: state.chats.get(id).title }))) return;
    if (await change(remove, panel.errorEl, () => api(`/api/v1/chats/${id}`, { method: "DELETE" }))) dropChat(id, t("groupDeleted"));
  });
  return { el: h("footer", { class: "panel-foot" }, leave, remove), remove };
}

function buildPanel(view) {
  const close = h("button", { type: "button", class: "btn-close", "aria-label": t("close"), title: t("close") });
  const info = groupInfoView(view);
  const list = h("ul", { class: "member-list", "aria-labelledby": "members-heading" });
  const heading = h("h3", { class: "members-heading", id: "members-heading" });
  const errorEl = h("p", { class: "field-error", role: "alert" });
  const panel = { view, info, list, heading, errorEl, expanded: null };
  panel.adding = addMembersView(panel);
  panel.foot = leaveAndDelete(panel);
  panel.el = h("aside", { class: "members-panel", id: "members-panel", tabindex: "-1", "aria-labelledby": "members-panel-title" },
    h("header", { class: "panel-head" }, h("h2", { id: "members-panel-title", text: t("groupInfo") }), close),
    h("div", { class: "panel-scroll" },
      info.el,
      h("section", { class: "members-section" }, h("div", { class: "members-head" }, heading, panel.adding.toggle), panel.adding.form, errorEl, list),
    ),
    panel.foot.el,
  );
  close.addEventListener("click", () => closeMembers(view, { focus: true }));
  panel.el.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.defaultPrevented) closeMembers(view, { focus: true });
  });
  return panel;
}

/** Show the group as it now is, keeping the focus where it was. */
function render(panel) {
  const chat = state.chats.get(panel.view.id);
  if (!chat) return;
  const focused = document.activeElement && document.activeElement.dataset.memberMenu;
  const members = [...chat.members].sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || fullName(a).localeCompare(fullName(b)));
  panel.info.update(chat);
  panel.heading.textContent = t("membersHeading", { n: chat.member_count });
  panel.adding.toggle.hidden = !canManage(chat);
  if (!canManage(chat)) panel.adding.form.hidden = true;
  panel.foot.remove.hidden = chat.my_role !== "owner";
  panel.list.replaceChildren(...members.map((m) => memberItem(panel, chat, m)));
  if (focused) panel.list.querySelector(`[data-member-menu="${CSS.escape(focused)}"]`)?.focus();
}

export function closeMembers(view, { focus = false } = {}) {
  if (!view.panel) return;
  view.panel.el.remove();
  view.panel = null;
  view.ui.pane.classList.remove("has-panel");
  const opener = view.ui.header.querySelector("[aria-controls='members-panel']");
  opener?.setAttribute("aria-expanded", "false");
  if (focus) opener?.focus();
}

/** The header's button: open the panel, or close it. */
export function toggleMembers(view) {
  if (view.panel) return closeMembers(view, { focus: true });
  view.panel = buildPanel(view);
  render(view.panel);
  view.ui.pane.append(view.panel.el);
  view.ui.pane.classList.add("has-panel");
  view.ui.header.querySelector("[aria-controls='members-panel']")?.setAttribute("aria-expanded", "true");
  view.panel.el.focus();
}

/** The group changed (live or by us): redraw an open panel. */
export function refreshMembers(view) {
  if (view.panel) render(view.panel);
}
