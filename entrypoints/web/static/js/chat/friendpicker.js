// Picking friends for a group (the new-group dialog, adding members): a search field over
// your friends and a list of checkboxes; the choice is a set of user_ids.

import { api } from "../api.js";
import { avatar, fullName, h } from "../dom.js";
import { t, tn } from "../i18n.js";

const fold = (text) => text.toLocaleLowerCase().replaceAll("ё", "е");

let serial = 0;

/**
 * A picker: `el` to put in a form, `load(excluded)` to fill it with the friends not in
 * `excluded` (user_ids), `selected` the user_ids picked, `reset()` to start over.
 */
export function friendPicker({ label }) {
  const prefix = `picker${(serial += 1)}`;
  const search = h("input", {
    type: "search",
    class: "form-control form-control-sm picker-search",
    placeholder: t("searchFriends"),
    "aria-label": t("searchFriends"),
    autocomplete: "off",
  });
  const list = h("ul", { class: "friend-picker", "aria-label": label });
  const count = h("p", { class: "picker-count", "aria-live": "polite" });
  const selected = new Set();
  let friends = [];

  function item(friend) {
    const id = `${prefix}-${friend.user_id}`;
    const box = h("input", { type: "checkbox", class: "form-check-input", id, value: friend.user_id, checked: selected.has(friend.user_id) });
    box.addEventListener("change", () => {
      if (box.checked) selected.add(friend.user_id);
      else selected.delete(friend.user_id);
      showCount();
    });
    return h("li", {}, h("label", { class: "picker-item", for: id }, box, avatar(friend, 32), h("span", { class: "picker-name", text: fullName(friend) })));
  }

  function showCount() {
    count.textContent = selected.size ? tn("chosen", selected.size) : "";
    picker.el.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function render() {
    const query = fold(search.value.trim());
    const shown = friends.filter((f) => !query || fold(fullName(f)).includes(query) || f.user_id.includes(query));
    if (!friends.length) list.replaceChildren(h("li", { class: "picker-empty", text: t("noFriendsToAdd") }));
    else if (!shown.length) list.replaceChildren(h("li", { class: "picker-empty", text: t("nobody") }));
    else list.replaceChildren(...shown.map(item));
  }

  search.addEventListener("input", render);
  // Enter in the search must not submit the form around it.
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") event.preventDefault();
  });

  const picker = {
    el: h("div", { class: "picker" }, search, list, count),
    selected,
    search,
    async load(excluded = new Set()) {
      list.replaceChildren(h("li", { class: "picker-empty", text: t("loading") }));
      try {
        const data = await api("/api/v1/users_friends");
        friends = data.friends.filter((f) => f.is_accepted && !excluded.has(f.user_id));
      } catch {
        friends = [];
        list.replaceChildren(h("li", { class: "picker-empty", text: t("somethingWrong") }));
        return;
      }
      render();
    },
    reset() {
      selected.clear();
      search.value = "";
      showCount();
    },
  };
  return picker;
}
