// One message as the history shows it: its bubble (a forward's source, the quote it
// answers, attachments, text with links and mentions), meta line, reactions and actions;
// in groups also its sender, "read by N" and the system messages' lines.

import { avatar, clockTime, fileSize, fullTime, h, icon, isoTime } from "../dom.js";
import { t } from "../i18n.js";
import { reactionsView } from "./chips.js";
import { findLinks, linkNode } from "./links.js";
import { isGroup, nameOf, nobody, person, remember } from "./people.js";
import { forwardedView, quoteView } from "./quote.js";
import { isLive, mayDeleteForEveryone, mayEdit } from "./rules.js";
import { lightbox, lightboxImage, state } from "./state.js";
import { systemText } from "./system.js";

/** A photo: a thumbnail at most 320 px that opens full size in the lightbox. */
function photoView(attachment) {
  const src = attachment.thumbnail_url || attachment.url;
  let width = attachment.width || 320;
  let height = attachment.height || 240;
  const scale = Math.min(1, 320 / Math.max(width, height));
  width = Math.round(width * scale);
  height = Math.round(height * scale);
  return h(
    "a",
    {
      class: "attachment attachment-photo",
      href: attachment.url,
      target: "_blank",
      rel: "noopener",
      "aria-label": t("openPhoto", { name: attachment.name }),
      onclick: (event) => {
        if (event.ctrlKey || event.metaKey || event.shiftKey || !lightbox.showModal) return;
        event.preventDefault();
        lightboxImage.src = attachment.url;
        lightboxImage.alt = attachment.name;
        lightbox.showModal();
      },
    },
    h("img", { src, alt: attachment.name, width, height, loading: "lazy", decoding: "async" }),
  );
}

function attachmentView(attachment) {
  if (attachment.kind === "photo") return photoView(attachment);
  if (attachment.kind === "video") {
    return h(
      "figure",
      { class: "attachment attachment-video" },
      h("video", { src: attachment.url, controls: true, preload: "metadata", "aria-label": attachment.name }),
      h("figcaption", { text: attachment.name }),
    );
  }
  if (attachment.kind === "audio") {
    return h(
      "figure",
      { class: "attachment attachment-audio" },
      h("figcaption", { text: attachment.name }),
      h("audio", { src: attachment.url, controls: true, preload: "metadata", "aria-label": attachment.name }),
    );
  }
  return h(
    "a",
    { class: "attachment attachment-file", href: attachment.url, download: attachment.name },
    icon("file", "file-icon"),
    h(
      "span",
      { class: "file-body" },
      h("span", { class: "file-name", text: attachment.name }),
      h("span", { class: "file-size", text: `${fileSize(attachment.size)} · ${t("download")}` }),
    ),
  );
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The "@Name" of each member the message mentions → whether it names us. */
function mentionTokens(message) {
  const names = new Map();
  for (const userId of message.mentions || []) {
    const user = person(message.chat_id, userId);
    if (!user || !user.first_name) continue;
    const token = `@${user.first_name}`;
    names.set(token, names.get(token) || userId === state.me);
  }
  return names;
}

/** A piece of text with its mentions marked (ours stands out). */
function withMentions(text, names) {
  if (!names.size) return [text];
  const tokens = [...names.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const pattern = new RegExp(`(${tokens.join("|")})(?![\\p{L}\\p{N}_])`, "gu");
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    const me = names.get(match[0]);
    parts.push(h("span", { class: `mention${me ? " mention-me" : ""}`, text: match[0] }));
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

/**
 * The text with its links (links.js) and, between them, the mentions, built of text
 * nodes and elements: user text never goes in as HTML.
 */
function messageText(message) {
  const names = mentionTokens(message);
  return findLinks(message.text).map((part) => (part.href ? linkNode(part) : withMentions(part.text, names)));
}

/** A tombstone's words: a group admin's removal says so. */
function tombstoneText(message) {
  return message.deleted_by && message.deleted_by !== message.sender_id ? t("deletedByAdmin") : t("deleted");
}

/** What the bubble shows: the tombstone, or the sticker, attachments and text. */
function messageContent(message) {
  const content = [];
  if (message.is_deleted) {
    content.push(h("p", { class: "message-text message-tombstone", text: tombstoneText(message) }));
  } else {
    content.push(forwardedView(message), quoteView(message));
    if (message.sticker) {
      content.push(h("img", { class: "sticker", src: message.sticker.url, alt: t("sticker"), width: 128, height: 128 }));
    }
    if (message.attachments.length) {
      content.push(h("div", { class: "attachments" }, message.attachments.map(attachmentView)));
    }
    if (message.text) content.push(h("p", { class: "message-text", dir: "auto" }, messageText(message)));
  }
  return content;
}

/** On our own messages in a group: how many have read it, a button that lists them. */
function readCount(message) {
  if (!message.read_count) return h("span", { class: "read-mark" }, icon("check", "icon-sm"), t("sent"));
  return h("button", {
    type: "button",
    class: "read-mark is-read read-count",
    "aria-expanded": "false",
    "aria-haspopup": "dialog",
    dataset: { action: "readers" },
  }, icon("check-double", "icon-sm"), t("readBy", { n: message.read_count }));
}

/** The edited note, the time and, on our own messages, the read mark. */
function messageMeta(message, own, group) {
  return h(
    "span",
    { class: "message-meta" },
    message.edited_date && !message.is_deleted
      ? h("button", {
          type: "button",
          class: "message-edited",
          "aria-haspopup": "dialog",
          title: t("showHistory"),
          dataset: { action: "history" },
          text: t("edited"),
        })
      : null,
    h("time", { datetime: isoTime(message.sending_date), title: fullTime(message.sending_date), text: clockTime(message.sending_date) }),
    own && !message.is_deleted && group ? readCount(message) : null,
    own && !message.is_deleted && !group
      ? h("span", {
          class: `read-mark${message.is_read ? " is-read" : ""}`,
        }, icon(message.is_read ? "check-double" : "check", "icon-sm"), message.is_read ? t("read") : t("sent"))
      : null,
  );
}

/** Beside the bubble with a mouse: edit and delete where allowed, and the menu of all the
 * rest (menu.js); touch screens use a long press instead (actions.js and menu.js handle
 * the clicks). */
function messageActions(message) {
  return h(
    "div",
    { class: "message-actions" },
    mayEdit(message)
      ? h("button", {
          type: "button",
          class: "icon-button",
          "aria-label": t("editMessage"),
          title: t("editMessage"),
          dataset: { action: "edit" },
        }, icon("edit"))
      : null,
    mayDeleteForEveryone(message)
      ? h("button", {
          type: "button",
          class: "icon-button",
          "aria-label": t("deleteMessage"),
          title: t("deleteMessage"),
          dataset: { action: "delete" },
        }, icon("trash"))
      : null,
    h("button", {
      type: "button",
      class: "icon-button message-more",
      "aria-label": t("messageMenu"),
      title: t("messageMenu"),
      "aria-haspopup": "menu",
      dataset: { action: "menu" },
    }, icon("more")),
  );
}

/** A group's line that says what happened to it, centred between the messages. */
function systemView(message) {
  remember([message.system && message.system.actor, ...((message.system && message.system.users) || [])]);
  return h(
    "li",
    { class: "system-message", dataset: { messageId: message.id } },
    h("span", { class: "system-text", title: fullTime(message.sending_date), text: systemText(message) }),
  );
}

/** Who wrote a message in a group: shown over the first of each run of theirs. */
function senderView(message) {
  const sender = person(message.chat_id, message.sender_id);
  return {
    face: h("span", { class: "message-face" }, avatar(sender || nobody(message.sender_id), 32)),
    name: h("span", { class: "message-sender", text: nameOf(sender) }),
  };
}

/** The history's <li> for one message. */
export function messageView(message) {
  if (message.kind === "system") return systemView(message);
  const chat = state.chats.get(message.chat_id);
  const group = isGroup(chat);
  const own = message.sender_id === state.me;
  const isSticker = !message.is_deleted && message.sticker && !message.text && !message.attachments.length;
  const classes = ["message", own ? "own" : "theirs"];
  if (message.is_deleted) classes.push("deleted");
  if (isSticker) classes.push("sticker-message");
  if (group) classes.push("in-group");
  if ((message.mentions || []).includes(state.me) && !own) classes.push("mentions-me");
  if (message.forwarded_from && isLive(message)) classes.push("forwarded");
  const sender = group && !own ? senderView(message) : null;
  return h(
    "li",
    { class: classes.join(" "), dataset: { messageId: message.id, senderId: message.sender_id } },
    sender ? sender.face : null,
    h(
      "div",
      { class: "message-body" },
      h("div", { class: "bubble" }, sender ? sender.name : null, messageContent(message), messageMeta(message, own, group)),
      reactionsView(message),
    ),
    messageActions(message),
  );
}

/** A click on the lightbox's backdrop closes it. */
export function wireLightbox() {
  lightbox?.addEventListener("click", (event) => {
    if (event.target === lightbox) lightbox.close();
  });
}
