// The friends page: search as you type, requests both ways, friends; kept live by events.

import { api, ApiError } from "./api.js";
import { avatar, debounce, fullName, h } from "./dom.js";
import { onResync, subscribe } from "./events.js";
import { t } from "./i18n.js";
import { refreshIncomingCount } from "./nav.js";
import { blockedIds, blockToggle } from "./privacy.js";

const me = () => document.body.dataset.userId;
const input = document.querySelector("[data-search-input]");
const searchStatus = document.querySelector("[data-search-status]");
const announce = document.querySelector("[data-announce]");
const lists = {
  search: document.querySelector('[data-list="search"]'),
  incoming: document.querySelector('[data-list="incoming"]'),
  outgoing: document.querySelector('[data-list="outgoing"]'),
  friends: document.querySelector('[data-list="friends"]'),
};
const EMPTY = { incoming: "noIncoming", outgoing: "noOutgoing", friends: "noFriends" };

const state = { incoming: [], outgoing: [], friends: [], results: [], query: "", blocked: new Set() };

function relation(userId) {
  if (userId === me()) return "me";
  for (const kind of ["friends", "incoming", "outgoing"]) {
    if (state[kind].some((u) => u.user_id === userId)) return kind;
  }
  return "none";
}

function say(text) {
  announce.textContent = "";
  setTimeout(() => (announce.textContent = text), 50);
}

async function act(button, work) {
  button.disabled = true;
  try {
    await work();
    await loadLists();
  } catch (error) {
    button.disabled = false;
    if (error instanceof ApiError) {
      say(error instanceof ApiError ? error.text : t("somethingWrong"));
      await loadLists();
    } else throw error;
  }
}

function actionButton(label, style, name, work) {
  const button = h("button", { type: "button", class: `btn btn-sm ${style}`, text: label, "aria-label": `${label}: ${name}` });
  button.addEventListener("click", () => act(button, work));
  return button;
}

function buttonsFor(user) {
  const name = fullName(user);
  const id = user.user_id;
  const friendAction = (action) => () => api("/api/v1/users_friends", { method: "POST", body: { action, friend_id: id } });
  const removal = () => api(`/api/v1/users_friends/${encodeURIComponent(id)}`, { method: "DELETE" });
  switch (relation(id)) {
    case "me":
      return [h("span", { class: "text-body-secondary small", text: t("itsYou") })];
    case "friends": {
      const write = h("a", { class: "btn btn-sm btn-primary", href: `/?chat_with=${encodeURIComponent(id)}`, text: t("write"), "aria-label": `${t("write")}: ${name}` });
      const remove = actionButton(t("remove"), "btn-outline-danger", name, async () => {
        if (!window.confirm(t("confirmRemove", { name }))) return;
        await removal();
      });
      return [write, remove];
    }
    case "incoming":
      return [
        actionButton(t("accept"), "btn-primary", name, async () => {
          await friendAction("accept")();
          say(t("nowFriends", { name }));
        }),
        actionButton(t("deny"), "btn-outline-secondary", name, friendAction("deny")),
      ];
    case "outgoing":
      return [
        h("span", { class: "text-body-secondary small request-note", text: t("requested") }),
        actionButton(t("cancelRequest"), "btn-outline-secondary", name, removal),
      ];
    default:
      return [
        actionButton(t("add"), "btn-primary", name, async () => {
          await friendAction("add")();
          say(t("requestSent", { name }));
        }),
      ];
  }
}

function searchButtons(user) {
  if (user.user_id === me()) return buttonsFor(user);
  const blocked = state.blocked.has(user.user_id);
  // Someone you blocked can be unblocked here; anyone else added (as before) or blocked.
  const toggle = blockToggle(user, blocked, () => loadLists());
  return blocked ? [toggle] : [...buttonsFor(user), toggle];
}

function personItem(user, { inSearch = false } = {}) {
  return h(
    "li",
    { class: "person", dataset: { userId: user.user_id } },
    avatar(user, 44),
    h("span", { class: "person-body" }, h("span", { class: "person-name", text: fullName(user) }), h("span", { class: "person-id", text: `ID ${user.user_id}` })),
    h("span", { class: "person-actions" }, inSearch ? searchButtons(user) : buttonsFor(user)),
  );
}

function renderList(kind) {
  const people = state[kind];
  const count = document.querySelector(`[data-count="${kind}"]`);
  if (count) count.textContent = people.length ? String(people.length) : "";
  if (!people.length) {
    lists[kind].replaceChildren(h("li", { class: "people-empty", text: t(EMPTY[kind]) }));
  } else {
    lists[kind].replaceChildren(...people.map(personItem));
  }
}

function renderResults() {
  lists.search.replaceChildren(...state.results.map((user) => personItem(user, { inSearch: true })));
}

function renderAll() {
  for (const kind of ["incoming", "outgoing", "friends"]) renderList(kind);
  renderResults();
}

async function loadLists() {
  const [incoming, outgoing, friends, blocked] = await Promise.all([
    ...["incoming", "outgoing", "friends"].map((type) => api("/api/v1/users_friends", { query: { type } })),
    blockedIds(),
  ]);
  state.blocked = blocked;
  state.incoming = incoming.friends;
  state.outgoing = outgoing.friends;
  state.friends = friends.friends;
  renderAll();
  refreshIncomingCount();
}

let searchSerial = 0;

async function search() {
  const query = input.value.trim();
  state.query = query;
  const serial = ++searchSerial;
  if (!query) {
    state.results = [];
    searchStatus.textContent = "";
    renderResults();
    return;
  }
  searchStatus.textContent = t("searching");
  try {
    const data = await api("/api/v1/users", { query: { search_request: query, limit: 20 } });
    if (serial !== searchSerial) return; // a newer search is on its way
    state.results = data.users;
    searchStatus.textContent = data.users.length ? t("found", { n: data.users.length }) : t("nobody");
    renderResults();
  } catch (error) {
    if (serial !== searchSerial) return;
    searchStatus.textContent = error instanceof ApiError ? error.text : t("somethingWrong");
  }
}

input.addEventListener("input", debounce(search, 250));
document.querySelector("[data-search-form]").addEventListener("submit", (event) => {
  event.preventDefault();
  search();
});

subscribe((event) => {
  if (event.type.startsWith("friend.") || event.type === "user.updated") {
    loadLists().then(() => {
      if (state.query) search();
    });
  }
});
onResync(() => loadLists());

loadLists();
// /friends?q=… (a forwarded message's author links here) searches for it at once; text
// typed (or restored by the browser) before this script ran gets its search too.
const asked = new URLSearchParams(location.search).get("q");
if (asked && !input.value.trim()) input.value = asked;
if (input.value.trim()) search();
