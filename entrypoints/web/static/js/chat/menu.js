// The message menu: a right click, a long press (touch) or the "⋯" button beside a
// message opens it (the ContextMenu key too, on that button). A quick row of reactions
// and the full picker, then Reply, Forward, Copy text, Edit, Pin or Unpin, Show edit
// history, Delete for me and Delete for everyone — each only where allowed (rules.js).
// A long press on a reaction chip names who reacted instead.

import { h } from "../dom.js";
import { t } from "../i18n.js";
import { copyText, deleteForEveryone, deleteForMe, startEdit } from "./actions.js";
import { showEditHistory } from "./edithistory.js";
import { pickEmoji } from "./emojipicker.js";
import { openForward } from "./forward.js";
import { isPinned, setPinned } from "./pins.js";
import { snapshotOf } from "./quote.js";
import { QUICK_REACTIONS, setReaction, showReactors } from "./reactions.js";
import { startReply } from "./reply.js";
import { isLive, mayDeleteForEveryone, mayEdit, mayPin } from "./rules.js";
import { closeMenu, menuIsOpen, openMenu } from "./popmenu.js";
import { paneEl, state } from "./state.js";

const LONG_PRESS_MS = 500;
const MOVE_SLOP = 10; // px a finger may wander before a press becomes a scroll

/** The quick reactions, ours marked, and "+" for the full picker. */
function quickRow(view, message) {
  const mine = new Set((message.reactions || []).filter((r) => r.me).map((r) => r.emoji));
  const react = (emoji) => () => {
    closeMenu();
    setReaction(view, message.id, emoji, !mine.has(emoji));
  };
  const more = h("button", { type: "button", class: "quick-reaction quick-more", "aria-label": t("moreReactions"), title: t("moreReactions"), text: "+" });
  more.addEventListener("click", async () => {
    closeMenu();
    const emoji = await pickEmoji();
    if (emoji && state.open === view) setReaction(view, message.id, emoji, !mine.has(emoji));
  });
  return h(
    "div",
    { class: "quick-reactions", role: "group", "aria-label": t("react") },
    QUICK_REACTIONS.map((emoji) =>
      h("button", {
        type: "button",
        class: `quick-reaction${mine.has(emoji) ? " is-mine" : ""}`,
        "aria-pressed": String(mine.has(emoji)),
        "aria-label": t("reactWith", { emoji }),
        text: emoji,
        onclick: react(emoji),
      }),
    ),
    more,
  );
}

/** What may be done to the message, in the menu's order. */
function menuItems(view, message) {
  const live = isLive(message);
  const items = [];
  if (live) {
    items.push({ id: "reply", label: t("reply"), icon: "reply", run: () => startReply(view, snapshotOf(message)) });
    items.push({ id: "forward", label: t("forward"), icon: "forward", run: () => openForward(message.id) });
  }
  if (live && message.text) items.push({ id: "copy", label: t("copyText"), icon: "copy", run: () => copyText(message) });
  if (mayEdit(message)) items.push({ id: "edit", label: t("edit"), icon: "edit", run: () => startEdit(view, message.id) });
  if (mayPin(message)) {
    const pinned = isPinned(view, message.id);
    items.push({ id: pinned ? "unpin" : "pin", label: pinned ? t("unpin") : t("pin"), icon: "pin", run: () => setPinned(view, message.id, !pinned) });
  }
  if (live && message.edited_date) items.push({ id: "history", label: t("showHistory"), icon: "clock", run: () => showEditHistory(message.id) });
  items.push({ id: "delete-me", label: t("deleteForMe"), icon: "eye-off", danger: true, run: () => deleteForMe(view, message.id) });
  if (mayDeleteForEveryone(message)) {
    items.push({ id: "delete-all", label: t("deleteForEveryone"), icon: "trash", danger: true, run: () => deleteForEveryone(view, message.id) });
  }
  return items;
}

/** Open the menu of the message shown in `li`, at the pointer or beside the message. */
export function openMessageMenu(li, at = null) {
  const view = state.open;
  if (!view || li.querySelector(".edit-form")) return;
  const message = view.messages.get(Number(li.dataset.messageId));
  if (!message || message.kind === "system") return;
  const where = at || (() => {
    const box = (li.querySelector(".bubble") || li).getBoundingClientRect();
    return { x: box.left, y: box.bottom + 4 };
  })();
  openMenu({
    label: t("messageMenu"),
    header: isLive(message) ? quickRow(view, message) : null,
    items: menuItems(view, message),
    at: where,
  });
}

function messageLi(target) {
  const li = target instanceof Element ? target.closest(".history li[data-message-id]") : null;
  return li && !li.classList.contains("system-message") ? li : null;
}

/** Whether a press on this part of a message is its own: a link in the text keeps the
 * browser's menu (copy the address), players and the editor their own. */
function ownsPress(target) {
  return Boolean(target.closest("a.message-link, a.forwarded-name, video, audio, textarea, input, .edit-form"));
}

/** Right click, long press and the "⋯" button open the menu. */
export function wireMenu() {
  let press = null; // { timer, x, y, li, chip }
  let swallowClick = false;

  // The click that ends a long press lands on whatever is under the finger then — the
  // menu's item, by now: it must not act.
  window.addEventListener("click", (event) => {
    if (!swallowClick) return;
    swallowClick = false;
    event.preventDefault();
    event.stopPropagation();
  }, true);

  paneEl.addEventListener("click", (event) => {
    const button = event.target.closest('button[data-action="menu"]');
    const li = button && messageLi(button);
    if (li) openMessageMenu(li);
  });

  paneEl.addEventListener("contextmenu", (event) => {
    const li = messageLi(event.target);
    if (!li || ownsPress(event.target)) return;
    event.preventDefault();
    if (press && press.opened) return; // the long press has opened it already
    cancelPress();
    if (menuIsOpen()) return;
    // From the keyboard (the ContextMenu key) the event has no pointer position.
    const fromKeyboard = event.button !== 2 && event.clientX === 0 && event.clientY === 0;
    openMessageMenu(li, fromKeyboard ? null : { x: event.clientX, y: event.clientY });
  });

  function cancelPress() {
    if (press) clearTimeout(press.timer);
    press = null;
  }

  paneEl.addEventListener("pointerdown", (event) => {
    if (event.pointerType !== "touch") return;
    const li = messageLi(event.target);
    if (!li || ownsPress(event.target)) return;
    const chip = event.target.closest(".reaction-chip");
    cancelPress();
    press = { x: event.clientX, y: event.clientY, li, chip, opened: false };
    press.timer = setTimeout(() => {
      if (!press) return;
      press.opened = true;
      swallowClick = true;
      navigator.vibrate?.(10);
      if (press.chip) showReactors(state.open, Number(li.dataset.messageId), press.chip.dataset.emoji, press.chip);
      else openMessageMenu(li, { x: press.x, y: press.y });
    }, LONG_PRESS_MS);
  });
  paneEl.addEventListener("pointermove", (event) => {
    if (press && !press.opened && Math.hypot(event.clientX - press.x, event.clientY - press.y) > MOVE_SLOP) cancelPress();
  });
  for (const type of ["pointerup", "pointercancel"]) {
    paneEl.addEventListener(type, () => {
      if (press && !press.opened) cancelPress();
      else if (press) {
        press = null;
        setTimeout(() => (swallowClick = false), 400); // no click came: nothing to swallow
      }
    });
  }
  paneEl.addEventListener("scroll", cancelPress, true);
}
