// Message search (GET /api/v1/search/messages): a field over the chat list for every
// chat, and one in the open chat's header for that chat alone. Results come newest first
// a page at a time ("more" follows `next`); each names the sender, the chat and the date,
// with the snippet's matches in <mark> — built from text nodes at the server's offsets,
// never as HTML. Choosing one opens its chat at that message, lit up (jump.js).

import { api, ApiError } from "../api.js";
import { debounce, fullName, h, isoTime, shortTime } from "../dom.js";
import { t } from "../i18n.js";
import { jumpTo } from "./jump.js";
import { isGroup, person } from "./people.js";
import { hooks, openView, state } from "./state.js";

const LIMIT = 20;

/** The snippet as nodes: plain text between the highlights, each highlight a <mark>.
 * Offsets count code points (the server's characters), not UTF-16 units. */
export function snippetNodes(snippet) {
  const chars = Array.from(snippet.text);
  const nodes = [];
  let at = 0;
  for (const [start, end] of snippet.highlights) {
    if (start < at || end <= start) continue;
    if (start > at) nodes.push(document.createTextNode(chars.slice(at, start).join("")));
    nodes.push(h("mark", { text: chars.slice(start, end).join("") }));
    at = end;
  }
  if (at < chars.length) nodes.push(document.createTextNode(chars.slice(at).join("")));
  return nodes;
}

function senderName(message) {
  if (message.sender_id === state.me) return t("you");
  const sender = person(message.chat_id, message.sender_id);
  return sender ? fullName(sender) : t("formerMember");
}

function chatName(chat) {
  if (!chat) return "";
  if (isGroup(chat)) return chat.title;
  const peer = chat.members.find((m) => m.user_id !== state.me);
  return peer ? fullName(peer) : chat.title;
}

/** One result: a button that opens the chat at the message. */
function resultItem(message, { showChat, onChoose }) {
  const chat = state.chats.get(message.chat_id);
  const where = showChat && chat && isGroup(chat) ? ` · ${chatName(chat)}` : "";
  const who = showChat && chat && !isGroup(chat) ? chatName(chat) : senderName(message);
  return h(
    "li",
    {},
    h(
      "button",
      {
        type: "button",
        class: "found-item",
        dataset: { messageId: message.id, chatId: message.chat_id },
        onclick: () => onChoose(message),
      },
      h(
        "span",
        { class: "found-top" },
        h("span", { class: "found-who", dir: "auto", text: `${who}${where}` }),
        h("time", { class: "found-time", datetime: isoTime(message.sending_date), text: shortTime(message.sending_date) }),
      ),
      h("span", { class: "found-snippet", dir: "auto" }, ...snippetNodes(message.snippet)),
    ),
  );
}

/** Open the message's chat (when another is open) and go to the message. */
export async function openFound(message) {
  await hooks.openChat(message.chat_id, { focus: false });
  const view = openView(message.chat_id);
  if (view) await jumpTo(view, message.id);
}

/**
 * A search box: `input` (its form), a results list with a status line and a "more"
 * button. `chatId`: search that chat only. `onActive(active)`: results shown or gone.
 */
export function searchBox({ chatId = null, label, onActive = () => {}, onChoose = openFound }) {
  const input = h("input", {
    type: "search",
    class: "form-control form-control-sm search-field",
    placeholder: label,
    "aria-label": label,
    autocomplete: "off",
    enterkeyhint: "search",
    maxlength: "256",
  });
  const form = h("form", { class: "message-search", role: "search", onsubmit: (e) => { e.preventDefault(); run(); } }, input);
  const status = h("p", { class: "found-status", role: "status" });
  const list = h("ul", { class: "found-list", "aria-label": t("searchResults") });
  const more = h("button", { type: "button", class: "btn btn-sm btn-link found-more", hidden: true, text: t("searchMore") });
  const results = h("div", { class: "found", hidden: true }, status, list, more);
  let query = "";
  let next = null;
  let asked = 0; // answers to older questions are dropped

  const choose = (message) => onChoose(message);

  async function page(cursor) {
    const mine = ++asked;
    const params = { q: query, limit: LIMIT };
    if (chatId !== null) params.chat_id = chatId;
    if (cursor !== null) params.cursor = cursor;
    status.textContent = t("searching");
    more.hidden = true;
    try {
      const data = await api("/api/v1/search/messages", { query: params });
      if (mine !== asked) return;
      if (cursor === null) list.replaceChildren();
      list.append(...data.messages.map((m) => resultItem(m, { showChat: chatId === null, onChoose: choose })));
      next = data.next;
      more.hidden = next === null;
      status.textContent = list.children.length ? "" : t("searchNothing");
    } catch (error) {
      if (mine !== asked) return;
      status.textContent = error instanceof ApiError ? error.text : t("somethingWrong");
    }
  }

  function run() {
    const wanted = input.value.trim();
    if (wanted === query) return; // Enter and the pause after typing ask once
    query = wanted;
    next = null;
    if (!query) {
      asked++;
      list.replaceChildren();
      status.textContent = "";
      results.hidden = true;
      onActive(false);
      return;
    }
    results.hidden = false;
    onActive(true);
    page(null);
  }

  const typed = debounce(run, 300);
  input.addEventListener("input", typed);
  // Results folded away after a choice come back when the field is used again.
  input.addEventListener("focus", () => {
    if (query && results.hidden) results.hidden = false;
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && input.value) {
      event.preventDefault();
      event.stopPropagation();
      input.value = "";
      run();
    } else if (event.key === "ArrowDown" && list.firstElementChild) {
      event.preventDefault();
      list.querySelector("button").focus();
    }
  });
  // Up and down move between results; Escape goes back to the field.
  list.addEventListener("keydown", (event) => {
    const buttons = [...list.querySelectorAll("button")];
    const at = buttons.indexOf(document.activeElement);
    if (at < 0) return;
    if (event.key === "ArrowDown" && at < buttons.length - 1) buttons[at + 1].focus();
    else if (event.key === "ArrowUp") (at > 0 ? buttons[at - 1] : input).focus();
    else if (event.key === "Escape") input.focus();
    else return;
    event.preventDefault();
  });
  more.addEventListener("click", () => {
    if (next !== null) page(next);
  });

  return {
    form,
    input,
    results,
    clear() {
      input.value = "";
      run();
    },
  };
}
