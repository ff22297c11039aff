// One message as the history shows it: its bubble, attachments, meta line and actions.

import { clockTime, fileSize, fullTime, h, icon, isoTime } from "../dom.js";
import { t } from "../i18n.js";
import { lightbox, lightboxImage, state } from "./state.js";

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

/** What the bubble shows: the tombstone, or the sticker, attachments and text. */
function messageContent(message) {
  const content = [];
  if (message.is_deleted) {
    content.push(h("p", { class: "message-text message-tombstone", text: t("deleted") }));
  } else {
    if (message.sticker) {
      content.push(h("img", { class: "sticker", src: message.sticker.url, alt: t("sticker"), width: 128, height: 128 }));
    }
    if (message.attachments.length) {
      content.push(h("div", { class: "attachments" }, message.attachments.map(attachmentView)));
    }
    if (message.text) content.push(h("p", { class: "message-text", dir: "auto", text: message.text }));
  }
  return content;
}

/** The edited note, the time and, on our own messages, the read mark. */
function messageMeta(message, own) {
  return h(
    "span",
    { class: "message-meta" },
    message.edited_date && !message.is_deleted ? h("span", { class: "message-edited", text: t("edited") }) : null,
    h("time", { datetime: isoTime(message.sending_date), title: fullTime(message.sending_date), text: clockTime(message.sending_date) }),
    own && !message.is_deleted
      ? h("span", {
          class: `read-mark${message.is_read ? " is-read" : ""}`,
        }, icon(message.is_read ? "check-double" : "check", "icon-sm"), message.is_read ? t("read") : t("sent"))
      : null,
  );
}

/** Edit and delete buttons for our own messages (actions.js handles their clicks). */
function messageActions(message) {
  return h(
    "div",
    { class: "message-actions" },
    message.text
      ? h("button", {
          type: "button",
          class: "icon-button",
          "aria-label": t("editMessage"),
          title: t("editMessage"),
          dataset: { action: "edit" },
        }, icon("edit"))
      : null,
    h("button", {
      type: "button",
      class: "icon-button",
      "aria-label": t("deleteMessage"),
      title: t("deleteMessage"),
      dataset: { action: "delete" },
    }, icon("trash")),
  );
}

/** The history's <li> for one message. */
export function messageView(message) {
  const own = message.sender_id === state.me;
  const isSticker = !message.is_deleted && message.sticker && !message.text && !message.attachments.length;
  const classes = ["message", own ? "own" : "theirs"];
  if (message.is_deleted) classes.push("deleted");
  if (isSticker) classes.push("sticker-message");
  return h(
    "li",
    { class: classes.join(" "), dataset: { messageId: message.id } },
    h("div", { class: "bubble" }, messageContent(message), messageMeta(message, own)),
    own && !message.is_deleted ? messageActions(message) : null,
  );
}

/** A click on the lightbox's backdrop closes it. */
export function wireLightbox() {
  lightbox?.addEventListener("click", (event) => {
    if (event.target === lightbox) lightbox.close();
  });
}
