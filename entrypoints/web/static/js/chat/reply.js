// Answering a message: the bar over the composer shows whom and what (its quote) with ✕;
// Esc in the composer or ✕ lets it go. The send (composer.js) names it in reply_to_id.

import { h, icon } from "../dom.js";
import { t } from "../i18n.js";
import { writeDraft } from "./drafts.js";
import { quoteAuthor, quoteText } from "./quote.js";
import { state } from "./state.js";

export function replyBarView() {
  const author = h("span", { class: "reply-bar-author" });
  const text = h("span", { class: "reply-bar-text", dir: "auto" });
  const cancel = h("button", { type: "button", class: "btn-close reply-bar-cancel", "aria-label": t("cancelReply"), title: t("cancelReply") });
  const bar = h("div", { class: "reply-bar", hidden: true, role: "group", "aria-label": t("replyingTo") },
    icon("reply", "reply-bar-icon"),
    h("div", { class: "reply-bar-body" }, author, text),
    cancel,
  );
  return { replyBar: bar, replyAuthor: author, replyText: text, replyCancel: cancel };
}

/** Answer a message: `quote` is its snapshot (quote.js snapshotOf, or kept in a draft). */
export function startReply(view, quote, { focus = true } = {}) {
  view.replyTo = quote;
  const ui = view.ui;
  ui.replyAuthor.textContent =
    quote.sender_id === state.me ? t("replyToSelf") : t("replyTo", { name: quoteAuthor(view.id, quote.sender_id) });
  ui.replyText.textContent = quoteText(quote);
  ui.replyBar.hidden = false;
  writeDraft(view);
  if (focus) ui.textarea.focus();
}

export function cancelReply(view, { focus = false } = {}) {
  view.replyTo = null;
  view.ui.replyBar.hidden = true;
  writeDraft(view);
  if (focus) view.ui.textarea.focus();
}

export function wireReply(view) {
  const ui = view.ui;
  view.replyTo = null;
  ui.replyCancel.addEventListener("click", () => cancelReply(view, { focus: true }));
  ui.textarea.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.defaultPrevented && view.replyTo) {
      event.preventDefault();
      cancelReply(view);
    }
  });
}
