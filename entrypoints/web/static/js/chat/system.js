// System messages of groups in the reader's words: the server sends what happened as data
// (an action, who did it, whom it concerned); the catalogue words it. Russian forms stay
// neutral where a person's gender is unknown ("добавил(а)"), and names stay nominative.

import { fullName } from "../dom.js";
import { lang, t } from "../i18n.js";
import { state } from "./state.js";

const listFormat = new Intl.ListFormat(lang === "en" ? "en" : "ru", { type: "conjunction" });

// The catalogue key of each action; those marked `you` have a form for when we did it.
const ACTIONS = {
  group_created: { key: "sysCreated", you: true },
  member_added: { key: "sysAdded", you: true },
  member_removed: { key: "sysRemoved", you: true },
  member_left: { key: "sysLeft", you: false },
  title_changed: { key: "sysRenamed", you: true },
};

function keyOf(system) {
  switch (system.action) {
    case "photo_changed":
      return { key: system.removed ? "sysPhotoRemoved" : "sysPhotoChanged", you: true };
    case "history_visibility_changed":
      return { key: system.history_visible ? "sysHistoryShown" : "sysHistoryHidden", you: true };
    case "role_changed":
      return { key: `sysRole_${system.role}`, you: false };
    default:
      return ACTIONS[system.action] || { key: "sysChanged", you: false };
  }
}

/** The people a system message concerns, as a list in words ("Борис и вы"). */
function usersText(users) {
  return listFormat.format(users.map((u) => (u.user_id === state.me ? t("youObject") : fullName(u))));
}

/** What a system message says, in the reader's language. */
export function systemText(message) {
  const system = message.system;
  if (!system) return t("sysChanged");
  const { key, you } = keyOf(system);
  const ours = you && system.actor && system.actor.user_id === state.me;
  return t(ours ? `${key}You` : key, {
    actor: system.actor ? fullName(system.actor) : t("someone"),
    users: usersText(system.users || []),
    title: system.title ?? "",
  });
}
