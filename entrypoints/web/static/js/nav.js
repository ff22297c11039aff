// The top bar: the count of incoming friend requests, kept live on every page.

import { api } from "./api.js";
import { subscribe } from "./events.js";

const badge = document.querySelector("[data-incoming-count]");

export async function refreshIncomingCount() {
  if (!badge) return;
  try {
    const data = await api("/api/v1/users_friends", { query: { type: "incoming" } });
    const count = data.friends.length;
    badge.textContent = String(count);
    badge.hidden = count === 0;
  } catch {
    /* the badge is a hint; the friends page shows the truth */
  }
}

export function setUnreadTotal(count) {
  const total = document.querySelector("[data-unread-total]");
  if (!total) return;
  total.textContent = String(count);
  total.hidden = count === 0;
}

if (badge) {
  refreshIncomingCount();
  subscribe((event) => {
    if (event.type.startsWith("friend.")) refreshIncomingCount();
  });
}
