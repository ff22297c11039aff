// The top bar on every page of the app: the count of incoming friend requests, the unread
// total (muted chats left out) in the "Чаты" badge and the tab's title, all kept live by
// the event stream; on pages other than the chats page, notifications of messages too
// (the chats page keeps its own list and tells notify.js itself).

import { api } from "./api.js";
import { subscribe } from "./events.js";
import { loadSettings, maybeNotify, unreadTotal } from "./notify.js";

const badge = document.querySelector("[data-incoming-count]");
const baseTitle = document.title.replace(/^\(\d+\) /, "");
const signedIn = Boolean(document.body.dataset.userId);

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

/** The unread total into the "Чаты" badge and the title: "(3) Друзья". */
export function setUnreadTotal(count) {
  document.title = count > 0 ? `(${count}) ${baseTitle}` : baseTitle;
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

// Pages without the chat list: the chats as the server has them, fetched again (at most
// once per burst of events) whenever one of them changes.
if (signedIn && document.body.dataset.page !== "chats") {
  let chats = new Map();
  let pending = null;
  const refresh = async () => {
    pending = null;
    try {
      const data = await api("/api/v1/chats");
      chats = new Map(data.chats.map((c) => [c.id, c]));
      setUnreadTotal(unreadTotal(chats.values()));
    } catch {
      /* a hint: the next event tries again */
    }
  };
  const soon = () => {
    if (!pending) pending = setTimeout(refresh, 150);
  };
  refresh();
  loadSettings();
  subscribe((event) => {
    if (event.type === "message.new") {
      const message = event.data.message;
      const chat = chats.get(message.chat_id);
      if (chat) maybeNotify(chat, message, { looking: false, open: (id) => location.assign(`/?chat=${id}`) });
      soon();
    } else if (event.type.startsWith("chat.") || event.type.startsWith("message.")) soon();
  });
  // A mute that ends brings its chat back into the total.
  setInterval(() => setUnreadTotal(unreadTotal(chats.values())), 60000);
}
