// Browser notifications of messages, on every page of the app. The permission is asked
// only when the reader presses a button (browsers ignore, and people resent, a prompt on
// load). What decides a notification is the server's: each chat's mute (muted_until) and
// the reader's settings (GET /api/v1/settings, kept live by settings.updated).

import { api } from "./api.js";
import { fullName } from "./dom.js";
import { subscribe } from "./events.js";
import { t } from "./i18n.js";
import { blockedIds } from "./privacy.js";

const supported = "Notification" in window;
const PREVIEW_MAX = 140;

let settings = { notify_preview: true, notify_muted_mentions: true };
let settingsLoaded = null;
const settingsWatchers = new Set();

// The people the reader blocked: their messages never notify (in groups, where they can
// still write). Loaded with the settings; this page's own blocks and unblocks keep it.
let blocked = new Set();
document.addEventListener("blocks-changed", (event) => {
  if (event.detail.blocked) blocked.add(event.detail.userId);
  else blocked.delete(event.detail.userId);
});

/** The reader's notification settings, loaded once per page. */
export function loadSettings() {
  if (!settingsLoaded) {
    blockedIds()
      .then((ids) => {
        blocked = ids;
      })
      .catch(() => {});
    settingsLoaded = api("/api/v1/settings")
      .then((data) => setSettings(data.settings))
      .catch(() => settings);
  }
  return settingsLoaded;
}

/** Settings as the server now has them (an answer of ours, or another tab's change). */
export function setSettings(value) {
  settings = { ...settings, ...value };
  for (const fn of settingsWatchers) fn(settings);
  return settings;
}

/** Call fn(settings) whenever they change. */
export function onSettings(fn) {
  settingsWatchers.add(fn);
}

/** Whether the chat is muted for us now: until a time still to come. */
export function isMuted(chat, now = Date.now()) {
  return Boolean(chat && chat.muted_until && chat.muted_until * 1000 > now);
}

/** The unread total the title and the "Чаты" badge show: muted chats are left out. */
export function unreadTotal(chats) {
  let total = 0;
  for (const chat of chats) if (!isMuted(chat)) total += chat.unread_count;
  return total;
}

function mentionsMe(message) {
  return (message.mentions || []).includes(document.body.dataset.userId);
}

function preview(message) {
  if (!settings.notify_preview) return t("notifyNewMessage");
  if (message.text) return message.text.length > PREVIEW_MAX ? `${message.text.slice(0, PREVIEW_MAX)}…` : message.text;
  if (message.sticker) return t("sticker");
  const first = (message.attachments || [])[0];
  if (!first) return t("notifyNewMessage");
  return first.kind === "file" ? t("file") : t(first.kind);
}

/**
 * Show a notification of `message` of `chat` unless the reader sees it already
 * (`looking`: the tab is visible with this chat open), it is ours or a system line, or
 * the chat is muted (a mention of us still notifies while the setting says so).
 * `open(chatId)` runs when the reader clicks it.
 */
export function maybeNotify(chat, message, { looking, open }) {
  if (!supported || Notification.permission !== "granted") return null;
  if (!chat || message.sender_id === document.body.dataset.userId || message.kind === "system") return null;
  if (message.is_deleted || looking || blocked.has(message.sender_id)) return null;
  if (isMuted(chat) && !(mentionsMe(message) && settings.notify_muted_mentions)) return null;
  const sender = chat.members.find((m) => m.user_id === message.sender_id);
  const name = sender ? fullName(sender) : "";
  const group = chat.kind === "group";
  const title = group ? chat.title : name || chat.title;
  const text = preview(message);
  const body = group && name ? `${name}: ${text}` : text;
  let shown;
  try {
    shown = new Notification(mentionsMe(message) ? `${title} · ${t("notifyMentioned")}` : title, {
      body,
      tag: `chat-${chat.id}`,
      lang: document.documentElement.lang,
    });
  } catch {
    return null; // some browsers allow notifications only from a service worker
  }
  shown.onclick = () => {
    window.focus();
    open(chat.id);
    shown.close();
  };
  return shown;
}

/**
 * A button that asks for the permission when pressed, and `note` saying where things
 * stand (granted, refused in the browser, not supported): both kept up to date.
 */
export function wirePermissionButton(button, note) {
  if (!button) return;
  const update = () => {
    const permission = supported ? Notification.permission : "unsupported";
    button.hidden = permission !== "default";
    if (note) {
      note.textContent = {
        granted: t("notifyGranted"),
        denied: t("notifyDenied"),
        unsupported: t("notifyUnsupported"),
        default: "",
      }[permission];
      note.hidden = !note.textContent;
    }
  };
  button.addEventListener("click", async () => {
    if (!supported) return;
    await Notification.requestPermission();
    update();
  });
  update();
}

subscribe((event) => {
  if (event.type === "settings.updated") setSettings(event.data);
});
