// People as the privacy rules show them: a deleted account's name, presence in words,
// and blocking. Shared by the chats, friends and profile pages.

import { api } from "./api.js";
import { clockTime, dayLabel, fullName } from "./dom.js";
import { t } from "./i18n.js";

/** The name to show: "Удалённый аккаунт" for a deleted account. */
export function displayName(user) {
  return user && user.deleted ? t("deletedAccount") : fullName(user);
}

/**
 * What the short user's presence says, in words, or "" when it shows none: online, the
 * time last seen (exact where allowed), or a fuzzy word where it is hidden.
 */
export function presenceText(user) {
  if (!user || user.deleted) return "";
  if (user.online === true) return t("online");
  const seen = user.last_seen;
  if (typeof seen === "string") return t(`lastSeen_${seen}`);
  if (typeof seen === "number") {
    const when = new Date(seen * 1000);
    const today = new Date().toDateString() === when.toDateString();
    const time = today ? clockTime(seen) : `${dayLabel(seen)} ${clockTime(seen)}`;
    return t("lastSeenAt", { time });
  }
  if ("online" in user) return t("lastSeenNever");
  return "";
}

export function blockUser(userId) {
  return api(`/api/v1/blocks/${encodeURIComponent(userId)}`, { method: "PUT" });
}

export function unblockUser(userId) {
  return api(`/api/v1/blocks/${encodeURIComponent(userId)}`, { method: "DELETE" });
}

/** The user_ids of everyone you blocked. */
export async function blockedIds() {
  const data = await api("/api/v1/blocks");
  return new Set(data.blocks.map((b) => b.user_id));
}

/**
 * A "Заблокировать" / "Разблокировать" button for someone: blocking asks first (it ends
 * the friendship and requests); ``changed(blocked)`` runs after either succeeds.
 */
export function blockToggle(user, blocked, changed = () => {}) {
  let now = blocked;
  const name = displayName(user);
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-sm btn-outline-secondary";
  button.dataset.blockToggle = "";
  const label = () => {
    button.textContent = now ? t("unblock") : t("block");
    button.setAttribute("aria-label", `${button.textContent}: ${name}`);
  };
  label();
  button.addEventListener("click", async () => {
    if (!now && !window.confirm(t("confirmBlock", { name }))) return;
    button.disabled = true;
    try {
      if (now) await unblockUser(user.user_id);
      else await blockUser(user.user_id);
      now = !now;
      label();
      document.dispatchEvent(new CustomEvent("blocks-changed", { detail: { userId: user.user_id, blocked: now } }));
      await changed(now);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}
