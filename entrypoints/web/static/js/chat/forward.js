// Forwarding a message: a dialog of our chats with a search, one or more picked (up to
// the server's forward_chats_max), sent in one request; the copies come into the lists
// and the open chat like any message of ours.

import { api, ApiError } from "../api.js";
import { avatar, fullName, h } from "../dom.js";
import { limits, t, tn } from "../i18n.js";
import { peerOf } from "./list.js";
import { onNewMessage } from "./live.js";
import { groupPhotoUrl, isGroup } from "./people.js";
import { state, toast } from "./state.js";

const fold = (text) => text.toLocaleLowerCase().replaceAll("ё", "е");
let dialog = null; // { el, search, list, count, send, error, chosen, messageId }

function chatName(chat) {
  if (isGroup(chat)) return chat.title;
  const peer = peerOf(chat);
  return peer ? fullName(peer) : chat.title;
}

function chatPicture(chat) {
  return isGroup(chat) ? avatar({ avatar: groupPhotoUrl(chat) }, 32, "group-avatar") : avatar(peerOf(chat), 32);
}

function render() {
  const query = fold(dialog.search.value.trim());
  const max = limits.forward_chats_max || 20;
  const chats = [...state.chats.values()]
    .sort((a, b) => b.last_activity - a.last_activity || b.id - a.id)
    .filter((chat) => !query || fold(chatName(chat)).includes(query));
  if (!chats.length) {
    dialog.list.replaceChildren(h("li", { class: "picker-empty", text: state.chats.size ? t("nobody") : t("noChats") }));
  } else {
    dialog.list.replaceChildren(
      ...chats.map((chat) => {
        const id = `forward-chat-${chat.id}`;
        const picked = dialog.chosen.has(chat.id);
        const box = h("input", { type: "checkbox", class: "form-check-input", id, checked: picked, disabled: !picked && dialog.chosen.size >= max });
        box.addEventListener("change", () => {
          if (box.checked) dialog.chosen.add(chat.id);
          else dialog.chosen.delete(chat.id);
          dialog.error.textContent = "";
          render();
          dialog.list.querySelector(`#${id}`)?.focus();
        });
        return h("li", {}, h("label", { class: "picker-item", for: id }, box, chatPicture(chat), h("span", { class: "picker-name", text: chatName(chat) })));
      }),
    );
  }
  dialog.count.textContent = dialog.chosen.size ? tn("chatsChosen", dialog.chosen.size) : "";
  dialog.send.disabled = !dialog.chosen.size;
}

async function send() {
  const chatIds = [...state.chats.keys()].filter((id) => dialog.chosen.has(id));
  if (!chatIds.length) return;
  dialog.send.disabled = true;
  try {
    const data = await api(`/api/v1/messages/${dialog.messageId}/forward`, { method: "POST", body: { chat_ids: chatIds } });
    dialog.el.close();
    for (const message of data.messages) onNewMessage(message);
    toast(tn("forwardedTo", data.messages.length));
  } catch (error) {
    dialog.error.textContent = error instanceof ApiError ? Object.values(error.fieldTexts)[0] || error.text : t("somethingWrong");
    dialog.send.disabled = false;
  }
}

function build() {
  const search = h("input", { type: "search", class: "form-control form-control-sm picker-search", placeholder: t("searchChats"), "aria-label": t("searchChats"), autocomplete: "off" });
  const list = h("ul", { class: "friend-picker forward-list", "aria-label": t("forwardTo") });
  const count = h("p", { class: "picker-count", "aria-live": "polite" });
  const error = h("p", { class: "field-error", role: "alert" });
  const cancel = h("button", { type: "button", class: "btn btn-outline-secondary", text: t("cancel") });
  const sendButton = h("button", { type: "submit", class: "btn btn-primary", text: t("forwardSend") });
  const close = h("button", { type: "button", class: "btn-close", "aria-label": t("close"), title: t("close") });
  const form = h("form", { class: "dialog-form" },
    h("header", { class: "dialog-head" }, h("h2", { id: "forward-dialog-title", text: t("forwardTitle") }), close),
    h("div", { class: "dialog-body" }, h("div", { class: "picker" }, search, list, count), error),
    h("footer", { class: "dialog-foot" }, cancel, sendButton),
  );
  const el = h("dialog", { class: "app-dialog forward-dialog", "aria-labelledby": "forward-dialog-title" }, form);
  search.addEventListener("input", render);
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") event.preventDefault();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  for (const button of [cancel, close]) button.addEventListener("click", () => el.close());
  document.body.append(el);
  return { el, search, list, count, send: sendButton, error, chosen: new Set(), messageId: null };
}

/** Open the dialog to forward message `messageId`. */
export function openForward(messageId) {
  if (!dialog) dialog = build();
  dialog.messageId = messageId;
  dialog.chosen.clear();
  dialog.search.value = "";
  dialog.error.textContent = "";
  render();
  dialog.el.showModal();
  dialog.search.focus();
}
