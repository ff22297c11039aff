// What a message says about other messages: the quote of the one it answers (its sender
// and first words, as they were when answered, or "deleted") and, on a forwarded copy,
// whom it came from. Both are drawn in the bubble, over the content.

import { fullName, h, icon } from "../dom.js";
import { t } from "../i18n.js";
import { nameOf, person } from "./people.js";
import { state } from "./state.js";

/** What a message holds, as a quote keeps it: {id, sender_id, preview, kind} (the
 * server's reply_to, made in the page for the reply bar before sending). */
export function snapshotOf(message) {
  const first = message.attachments && message.attachments[0];
  const kind = first ? first.kind : message.sticker ? "sticker" : "text";
  const preview = (message.text || (first ? first.name : "")).slice(0, 200);
  return { id: message.id, sender_id: message.sender_id, preview, kind };
}

/** A quote's words: the text, or what it held ("Фото · закат.png", "Стикер"). */
export function quoteText(quote) {
  if (quote.kind === "text" || !quote.kind) return quote.preview || "";
  if (quote.kind === "sticker") return t("sticker");
  const what = t(quote.kind);
  return quote.preview ? `${what} · ${quote.preview}` : what;
}

/** Whose words a quote shows: "Вы" for ours. */
export function quoteAuthor(chatId, senderId) {
  if (senderId === state.me) return t("you");
  return nameOf(person(chatId, senderId));
}

/** The quote in a reply's bubble; a click jumps to the original (actions.js). */
export function quoteView(message) {
  const quote = message.reply_to;
  if (!quote) return null;
  if (quote.deleted) {
    return h("div", { class: "message-quote is-deleted" }, h("span", { class: "quote-text", text: t("quoteDeleted") }));
  }
  const author = quoteAuthor(message.chat_id, quote.sender_id);
  return h(
    "button",
    {
      type: "button",
      class: "message-quote",
      dataset: { action: "jump", target: quote.id },
      "aria-label": t("quoteOf", { name: author, text: quoteText(quote) }),
    },
    h("span", { class: "quote-author", text: author }),
    h("span", { class: "quote-text", dir: "auto", text: quoteText(quote) }),
  );
}

/** "Переслано от <name>": the name links to the person where the source allows it. */
export function forwardedView(message) {
  const source = message.forwarded_from;
  if (!source) return null;
  const known = source.user_id ? person(message.chat_id, source.user_id) : null;
  const name = known ? fullName(known) : source.name;
  const who = source.user_id
    ? h("a", { class: "forwarded-name", href: `/friends?q=${encodeURIComponent(source.user_id)}`, text: name })
    : h("span", { class: "forwarded-name", text: name });
  return h("p", { class: "message-forwarded" }, icon("forward", "icon-sm"), h("span", {}, t("forwardedFrom"), " ", who));
}
