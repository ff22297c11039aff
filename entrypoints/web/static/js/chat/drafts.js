// Drafts: what the composer holds for a chat — its text and the message it answers —
// kept in localStorage per user and chat, so that it survives switching chats and
// reloading; a send clears it.

import { state } from "./state.js";

function key(chatId) {
  return `messenger.draft.${state.me}.${chatId}`;
}

/** The chat's draft: {text, reply} (reply: a quote snapshot, or null). */
export function readDraft(chatId) {
  try {
    const stored = JSON.parse(localStorage.getItem(key(chatId)) || "null");
    if (stored && typeof stored.text === "string") return { text: stored.text, reply: stored.reply || null };
  } catch {
    /* storage off, or a value of another version: no draft */
  }
  return { text: "", reply: null };
}

/** Keep what the open chat's composer holds now (nothing kept when it is empty). */
export function writeDraft(view) {
  const text = view.ui.textarea.value;
  try {
    if (!text.trim() && !view.replyTo) localStorage.removeItem(key(view.id));
    else localStorage.setItem(key(view.id), JSON.stringify({ text, reply: view.replyTo || null }));
  } catch {
    /* full or off: the draft lives as long as the page */
  }
}

export function dropDraft(view) {
  try {
    localStorage.removeItem(key(view.id));
  } catch {
    /* nothing kept */
  }
}
