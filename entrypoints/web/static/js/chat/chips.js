// Reactions under a bubble: one chip per emoji with its count, ours stand out; a chip's
// title (and, on touch, a long press: reactions.js) names who reacted.

import { fullName, h } from "../dom.js";
import { t, tn } from "../i18n.js";
import { person } from "./people.js";
import { state } from "./state.js";

/** Who gave a reaction, as far as we can name them: "Вы, Анна Лебедева и ещё 3". */
export function reactorNames(chatId, reaction) {
  const names = reaction.user_ids.map((id) => {
    if (id === state.me) return t("you");
    const user = person(chatId, id);
    return user ? fullName(user) : t("formerMember");
  });
  const more = reaction.count - reaction.user_ids.length;
  return more > 0 ? `${names.join(", ")} ${tn("andMore", more)}` : names.join(", ");
}

/** The chips of a message, or null when nobody reacted. */
export function reactionsView(message) {
  const reactions = message.reactions || [];
  if (!reactions.length || message.is_deleted) return null;
  return h(
    "ul",
    { class: "reactions", "aria-label": t("reactions") },
    reactions.map((r) =>
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            class: `reaction-chip${r.me ? " is-mine" : ""}`,
            "aria-pressed": String(Boolean(r.me)),
            "aria-label": t("reactionChip", { emoji: r.emoji, n: r.count, names: reactorNames(message.chat_id, r) }),
            title: reactorNames(message.chat_id, r),
            dataset: { action: "react", emoji: r.emoji },
          },
          h("span", { class: "reaction-emoji", text: r.emoji }),
          h("span", { class: "reaction-count", text: r.count }),
        ),
      ),
    ),
  );
}
