// The full reaction picker: every emoji the server takes, in Unicode's groups (tabs jump
// to them), searchable by name in English and the page's language. Its list is
// static/emoji/emoji.json (scripts/build_emoji.py), fetched the first time it opens. A
// modal <dialog>; the arrow keys move in the grid; the choice resolves pickEmoji().

import { h } from "../dom.js";
import { lang, t } from "../i18n.js";

const COLUMNS = 8;
let listing = null; // the fetch of emoji.json, once
let picker = null; // { dialog, search, body, resolve }

function loadList() {
  if (!listing) {
    listing = fetch("/static/emoji/emoji.json", { credentials: "same-origin" }).then((r) => {
      if (!r.ok) throw new Error(`emoji list: HTTP ${r.status}`);
      return r.json();
    });
    listing.catch(() => (listing = null)); // try again next time
  }
  return listing;
}

function labelOf(data, item) {
  const at = data.languages.indexOf(lang);
  return item[at >= 0 ? at + 1 : 1];
}

const fold = (text) => text.toLocaleLowerCase().replaceAll("ё", "е");

function emojiButton(data, item) {
  const label = labelOf(data, item);
  return h("button", { type: "button", class: "emoji-choice", tabindex: "-1", title: label, "aria-label": label, dataset: { emoji: item[0] }, text: item[0] });
}

function grid(buttons) {
  return h("div", { class: "emoji-grid", role: "group" }, buttons);
}

/** The groups, each under its name; or, while searching, what matches. */
function render(data) {
  const query = fold(picker.search.value.trim());
  if (!query && picker.full) return;
  picker.full = !query;
  let sections;
  if (query) {
    const found = [];
    for (const group of data.groups) {
      for (const item of group.emoji) if (item.slice(1).some((name) => fold(name).includes(query))) found.push(item);
    }
    sections = found.length
      ? [grid(found.slice(0, 200).map((item) => emojiButton(data, item)))]
      : [h("p", { class: "emoji-empty", text: t("nobodyEmoji") })];
  } else {
    sections = data.groups.map((group) =>
      h("section", { class: "emoji-section", id: `emoji-group-${group.key}`, "aria-label": t(groupKey(group)) },
        h("h3", { class: "emoji-section-title", text: t(groupKey(group)) }),
        grid(group.emoji.map((item) => emojiButton(data, item))),
      ),
    );
  }
  picker.body.replaceChildren(...sections);
  const first = picker.body.querySelector(".emoji-choice");
  if (first) first.tabIndex = 0;
}

function groupKey(group) {
  return `emojiGroup_${group.key.replaceAll("-", "_")}`;
}

function tabs(data) {
  return h(
    "nav",
    { class: "emoji-tabs", "aria-label": t("emojiGroups") },
    data.groups.map((group) =>
      h("button", {
        type: "button",
        class: "emoji-tab",
        title: t(groupKey(group)),
        "aria-label": t(groupKey(group)),
        text: group.emoji[0][0],
        onclick: () => {
          picker.search.value = "";
          render(data);
          picker.body.querySelector(`#emoji-group-${group.key}`)?.scrollIntoView({ block: "start" });
        },
      }),
    ),
  );
}

/** ← → ↑ ↓ move among the emoji (one tab stop for the grid), Enter picks. */
function moveInGrid(event) {
  const buttons = [...picker.body.querySelectorAll(".emoji-choice")];
  const at = buttons.indexOf(document.activeElement);
  if (at < 0) return;
  const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLUMNS, ArrowUp: -COLUMNS }[event.key];
  if (!step) return;
  event.preventDefault();
  const next = buttons[Math.max(0, Math.min(buttons.length - 1, at + step))];
  buttons[at].tabIndex = -1;
  next.tabIndex = 0;
  next.focus();
}

function finish(emoji) {
  const { dialog, resolve } = picker;
  picker.resolve = null;
  if (dialog.open) dialog.close();
  if (resolve) resolve(emoji);
}

function build() {
  const search = h("input", { type: "search", class: "form-control form-control-sm emoji-search", placeholder: t("searchEmoji"), "aria-label": t("searchEmoji"), autocomplete: "off" });
  const body = h("div", { class: "emoji-body" }, h("p", { class: "emoji-empty", text: t("loading") }));
  const close = h("button", { type: "button", class: "btn-close", "aria-label": t("close"), title: t("close") });
  const dialog = h("dialog", { class: "app-dialog emoji-dialog", "aria-labelledby": "emoji-dialog-title" },
    h("header", { class: "dialog-head" }, h("h2", { id: "emoji-dialog-title", text: t("chooseReaction") }), close),
    h("div", { class: "emoji-search-row" }, search),
    h("div", { class: "emoji-tabs-slot" }),
    body,
  );
  close.addEventListener("click", () => finish(null));
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    finish(null);
  });
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) finish(null);
    const choice = event.target.closest(".emoji-choice");
    if (choice) finish(choice.dataset.emoji);
  });
  body.addEventListener("keydown", moveInGrid);
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      const first = body.querySelector(".emoji-choice");
      if (first) finish(first.dataset.emoji);
    }
  });
  document.body.append(dialog);
  return { dialog, search, body, resolve: null, data: null, full: false };
}

/** Open the picker; resolves to the emoji picked, or null when closed without one. */
export function pickEmoji() {
  if (!picker) picker = build();
  if (picker.resolve) picker.resolve(null);
  const chosen = new Promise((resolve) => (picker.resolve = resolve));
  if (picker.search.value) {
    picker.search.value = "";
    if (picker.data) render(picker.data);
  }
  picker.dialog.showModal();
  picker.search.focus();
  loadList().then(
    (data) => {
      if (!picker.data) {
        picker.data = data;
        picker.dialog.querySelector(".emoji-tabs-slot").replaceWith(tabs(data));
        picker.search.addEventListener("input", () => render(data));
      }
      render(data);
    },
    () => picker.body.replaceChildren(h("p", { class: "emoji-empty", text: t("somethingWrong") })),
  );
  return chosen;
}
