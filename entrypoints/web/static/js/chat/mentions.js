// Mentions in the composer of a group: "@" opens a list of the chat's members (↑ ↓ move,
// Enter or Tab choose, Esc closes); a choice puts "@Name " into the text and remembers
// whom it names, and a send takes those whose "@Name" is still in the text.

import { avatar, fullName, h } from "../dom.js";
import { t } from "../i18n.js";
import { isGroup } from "./people.js";
import { state } from "./state.js";

const MAX_SHOWN = 8;
// "@" at the start or after a space, then the part of a name typed so far, up to the caret.
const TYPED = /(?:^|\s)@([\p{L}\p{N}_-]*)$/u;

/** The list the composer shows the members in. */
export function mentionsView() {
  return h("ul", { class: "mention-list", id: "mention-list", role: "listbox", "aria-label": t("mentionMembers"), hidden: true });
}

const fold = (text) => text.toLocaleLowerCase().replaceAll("ё", "е");

function candidates(view, typed) {
  const chat = state.chats.get(view.id);
  const query = fold(typed);
  return chat.members
    .filter((m) => m.user_id !== state.me)
    .filter((m) => !query || fold(m.first_name).startsWith(query) || fold(m.second_name).startsWith(query) || fold(fullName(m)).startsWith(query))
    .slice(0, MAX_SHOWN);
}

function close(view) {
  const ui = view.ui;
  view.mention = null;
  ui.mentionList.hidden = true;
  ui.mentionList.replaceChildren();
  ui.textarea.setAttribute("aria-expanded", "false");
  ui.textarea.removeAttribute("aria-activedescendant");
}

function highlight(view, index) {
  const ui = view.ui;
  view.mention.active = index;
  [...ui.mentionList.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
  const active = ui.mentionList.children[index];
  ui.textarea.setAttribute("aria-activedescendant", active.id);
  active.scrollIntoView({ block: "nearest" });
}

/** Put "@FirstName " in place of what was typed after the "@". */
function choose(view, member) {
  const { textarea } = view.ui;
  const { start } = view.mention;
  const end = textarea.selectionStart;
  const inserted = `@${member.first_name} `;
  textarea.value = textarea.value.slice(0, start) + inserted + textarea.value.slice(end);
  textarea.setSelectionRange(start + inserted.length, start + inserted.length);
  view.mentioned.set(member.user_id, member.first_name);
  close(view);
  textarea.dispatchEvent(new Event("input", { bubbles: true }));
  textarea.focus();
}

/** Open, refill or close the list as the text before the caret says. */
function update(view) {
  const { textarea, mentionList } = view.ui;
  if (!isGroup(state.chats.get(view.id)) || textarea.selectionStart !== textarea.selectionEnd) return close(view);
  const typed = TYPED.exec(textarea.value.slice(0, textarea.selectionStart));
  const found = typed ? candidates(view, typed[1]) : [];
  if (!found.length) return close(view);
  view.mention = { start: textarea.selectionStart - typed[1].length - 1, found, active: 0 };
  mentionList.replaceChildren(
    ...found.map((member, index) =>
      h(
        "li",
        {
          class: "mention-option",
          id: `mention-option-${index}`,
          role: "option",
          "aria-selected": "false",
          onmousedown: (event) => event.preventDefault(), // keep the focus in the text
          onclick: () => choose(view, member),
        },
        avatar(member, 28),
        h("span", { class: "mention-option-name", text: fullName(member) }),
      ),
    ),
  );
  mentionList.hidden = false;
  textarea.setAttribute("aria-expanded", "true");
  highlight(view, 0);
}

/** Wire the list to the composer's text; before the composer's own keys, so that Enter
 * chooses rather than sends while the list is open. */
export function wireMentions(view) {
  const { textarea } = view.ui;
  view.mentioned = new Map(); // user_id → the first name put in the text
  view.mention = null;
  textarea.setAttribute("aria-autocomplete", "list");
  textarea.setAttribute("aria-controls", "mention-list");
  textarea.setAttribute("aria-expanded", "false");
  textarea.addEventListener("keydown", (event) => {
    const open = view.mention;
    if (!open || event.isComposing) return;
    const count = open.found.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      highlight(view, (open.active + (event.key === "ArrowDown" ? 1 : count - 1)) % count);
    } else if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      choose(view, open.found[open.active]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close(view);
    }
  });
  textarea.addEventListener("input", () => update(view));
  textarea.addEventListener("click", () => update(view));
  textarea.addEventListener("blur", () => close(view));
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The user_ids of the members whose "@Name" is still in the text. */
export function mentionsIn(view, text) {
  const chat = state.chats.get(view.id);
  const members = new Set(chat ? chat.members.map((m) => m.user_id) : []);
  return [...view.mentioned]
    .filter(([userId, name]) => members.has(userId) && new RegExp(`@${escapeRegExp(name)}(?![\\p{L}\\p{N}_])`, "u").test(text))
    .map(([userId]) => userId);
}

/** After a send: nobody is named any more. */
export function forgetMentions(view) {
  view.mentioned.clear();
}
