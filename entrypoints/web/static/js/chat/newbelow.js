// The "new messages ↓" button over the bottom of the history: there while the reader is
// scrolled up (or looking at older messages after a jump), with the number of messages
// that came meanwhile; a click goes down to the latest.

import { h, icon } from "../dom.js";
import { t, tn } from "../i18n.js";
import { loadLatest, nearBottom } from "./history.js";

export function newBelowView() {
  const count = h("span", { class: "new-below-count", hidden: true });
  const button = h("button", { type: "button", class: "new-below", hidden: true }, icon("arrow-down"), count);
  return { newBelow: button, newBelowCount: count };
}

/** Show or hide the button as the reader's place says; at the bottom nothing is unseen. */
export function updateNewBelow(view) {
  const { newBelow, newBelowCount, scroller } = view.ui;
  const atBottom = !view.hasNewer && nearBottom(scroller, 80);
  if (atBottom) view.unseen = 0;
  newBelow.hidden = atBottom;
  newBelowCount.hidden = !view.unseen;
  newBelowCount.textContent = view.unseen > 99 ? "99+" : String(view.unseen);
  const label = view.unseen ? tn("newBelow", view.unseen) : t("toLatest");
  newBelow.setAttribute("aria-label", label);
  newBelow.title = label;
}

/** A message of someone else's came while the reader was not at the bottom. */
export function noteArrival(view) {
  view.unseen = (view.unseen || 0) + 1;
  updateNewBelow(view);
}

export function wireNewBelow(view) {
  const { newBelow, scroller } = view.ui;
  view.unseen = 0;
  scroller.addEventListener("scroll", () => updateNewBelow(view), { passive: true });
  newBelow.addEventListener("click", async () => {
    if (view.hasNewer) await loadLatest(view);
    else scroller.scrollTo({ top: scroller.scrollHeight, behavior: "smooth" });
    view.unseen = 0;
    updateNewBelow(view);
    view.ui.textarea.focus({ preventScroll: true });
  });
}
