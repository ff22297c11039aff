// The open chat's people: the peer's presence in the header (where the ID was), who is
// typing, blocking from the header, and a composer closed with the reason when you may
// not write (an ex-friend's or a blocked chat stays readable).

import { api, ApiError } from "../api.js";
import { h } from "../dom.js";
import { subscribe } from "../events.js";
import { errorText, limits, t } from "../i18n.js";
import { blockedIds, blockUser, displayName, presenceText, unblockUser } from "../privacy.js";
import { fetchChat, peerOf, renderChatList } from "./list.js";
import { openView, state } from "./state.js";

const TYPING_SEND_MS = (limits.typing_interval || 3) * 1000;
const TYPING_SHOW_MS = (limits.typing_ttl || 6) * 1000;
const PRESENCE_REFRESH_MS = 60 * 1000;

function subtitle(view) {
  return view.ui.header.querySelector(".chat-subtitle");
}

function showSubtitle(view) {
  const typing = view.typing && [...view.typing.values()].filter((until) => until > Date.now()).length;
  const el = subtitle(view);
  if (typing) {
    el.textContent = view.peer ? t("typing") : t("typingName", { name: view.typingNames.join(", ") });
    el.classList.add("is-typing");
    return;
  }
  el.classList.remove("is-typing");
  if (view.peer) el.textContent = presenceText(view.peer) || (view.peer.deleted ? "" : `ID ${view.peer.user_id}`);
}

/** Close the composer, saying why, when the chat says you may not send. */
export function applySendState(view, chat) {
  const ui = view.ui;
  const closed = chat.can_send === false;
  ui.textarea.disabled = closed;
  ui.sendButton.disabled = closed;
  ui.attachButton.disabled = closed;
  ui.stickerButton.disabled = closed;
  ui.form.classList.toggle("is-closed", closed);
  ui.textarea.placeholder = closed ? errorText(chat.cannot_send) : t("messagePlaceholder");
  ui.errorEl.textContent = closed ? errorText(chat.cannot_send) : "";
}

function blockButton(view) {
  const button = h("button", { type: "button", class: "btn btn-sm btn-outline-secondary chat-block-button", "data-block-toggle": true });
  const label = () => {
    button.textContent = view.blocked ? t("unblock") : t("block");
  };
  label();
  button.addEventListener("click", async () => {
    const name = displayName(view.peer);
    if (!view.blocked && !window.confirm(t("confirmBlock", { name }))) return;
    button.disabled = true;
    try {
      if (view.blocked) await unblockUser(view.peer.user_id);
      else await blockUser(view.peer.user_id);
      view.blocked = !view.blocked;
      label();
      await refreshChat(view);
    } catch (error) {
      view.ui.errorEl.textContent = error instanceof ApiError ? error.text : t("somethingWrong");
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

async function refreshChat(view) {
  try {
    const chat = await fetchChat(view.id);
    if (openView(view.id) !== view) return;
    view.peer = chat.kind === "direct" ? peerOf(chat) : null;
    applySendState(view, chat);
    showSubtitle(view);
    renderChatList();
  } catch {
    /* the chat may be gone: live.js shows that */
  }
}

/** Wire the open chat's presence, typing, blocking and composer state. */
export function wirePresence(view, chat) {
  view.peer = chat.kind === "direct" ? peerOf(chat) : null;
  view.typing = new Map(); // user_id → until (ms)
  view.typingNames = [];
  applySendState(view, chat);
  showSubtitle(view);
  if (view.peer && !view.peer.deleted) {
    view.blocked = false;
    const button = blockButton(view);
    view.ui.header.append(button);
    blockedIds().then((ids) => {
      view.blocked = ids.has(view.peer.user_id);
      button.textContent = view.blocked ? t("unblock") : t("block");
    }).catch(() => {});
    const timer = setInterval(() => {
      if (openView(view.id) !== view) clearInterval(timer);
      else refreshChat(view);
    }, PRESENCE_REFRESH_MS);
  }
  let lastSent = 0;
  view.ui.textarea.addEventListener("input", () => {
    if (!view.ui.textarea.value.trim() || Date.now() - lastSent < TYPING_SEND_MS) return;
    lastSent = Date.now();
    api(`/api/v1/chats/${view.id}/typing`, { method: "POST" }).catch(() => {});
  });
}

subscribe((event) => {
  const view = state.open;
  if (!view) return;
  if (event.type === "chat.typing" && event.data.chat_id === view.id && event.data.user_id !== state.me) {
    view.typing.set(event.data.user_id, Date.now() + TYPING_SHOW_MS);
    const chat = state.chats.get(view.id);
    const member = chat && chat.members.find((m) => m.user_id === event.data.user_id);
    view.typingNames = member ? [displayName(member)] : [];
    showSubtitle(view);
    setTimeout(() => showSubtitle(view), TYPING_SHOW_MS + 50);
  } else if (event.type === "message.new" && event.data.message.chat_id === view.id) {
    view.typing.delete(event.data.message.sender_id);
    showSubtitle(view);
  } else if (event.type.startsWith("friend.") || event.type === "user.updated") {
    refreshChat(view);
  }
});
