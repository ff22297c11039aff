// Going to a message — a quote's original, the pinned one: scrolled to and lit up briefly;
// when it is not loaded, the page around it (?around=) takes the history's place, and the
// reader scrolls on both ways from there (history.js pages older and newer).

import { api } from "../api.js";
import { t } from "../i18n.js";
import { showAround } from "./history.js";
import { updateNewBelow } from "./newbelow.js";
import { PAGE, state, toast } from "./state.js";

const LIT_FOR_MS = 2500;

function lightUp(li) {
  li.parentElement.querySelectorAll(".highlighted").forEach((el) => el.classList.remove("highlighted"));
  li.classList.add("highlighted");
  setTimeout(() => li.classList.remove("highlighted"), LIT_FOR_MS);
}

/** Scroll to message `messageId` of the open chat, loading the history around it if need be. */
export async function jumpTo(view, messageId) {
  if (!view.elements.has(messageId)) {
    let data;
    try {
      data = await api(`/api/v1/chats/${view.id}/messages`, { query: { around: messageId, limit: PAGE } });
    } catch {
      data = { messages: [] };
    }
    if (state.open !== view) return;
    if (!data.messages.some((m) => m.id === messageId)) {
      toast(t("messageUnavailable"));
      return;
    }
    showAround(view, data.messages, messageId, PAGE);
  }
  const li = view.elements.get(messageId);
  view.stuck = false;
  li.scrollIntoView({ block: "center" });
  li.tabIndex = -1;
  li.focus({ preventScroll: true });
  lightUp(li);
  updateNewBelow(view);
}
