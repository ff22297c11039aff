// Muting the open chat for ourselves (PUT /api/v1/chats/{id}/mute): for an hour, eight
// hours, a day, for good, or unmuting; the chat menu offers what fits. A muted chat's
// unread count turns grey and leaves the total; it does not notify (mentions may).

import { api, ApiError } from "../api.js";
import { t } from "../i18n.js";
import { isMuted } from "../notify.js";
import { updateChat } from "./list.js";
import { state, toast } from "./state.js";

const HOUR = 3600;
const CHOICES = [
  ["mute1h", HOUR],
  ["mute8h", 8 * HOUR],
  ["mute1d", 24 * HOUR],
  ["muteForever", null],
];

async function setMute(chatId, until, done) {
  try {
    const data = await api(`/api/v1/chats/${chatId}/mute`, { method: "PUT", body: { until } });
    updateChat(data.chat);
    toast(t(done));
  } catch (error) {
    toast(error instanceof ApiError ? error.text : t("somethingWrong"));
  }
}

/** The chat menu's items for muting or unmuting chat `chatId`. */
export function muteItems(chatId) {
  if (isMuted(state.chats.get(chatId))) {
    return [{ id: "unmute", label: t("unmute"), icon: "bell", run: () => setMute(chatId, null, "unmuted") }];
  }
  return CHOICES.map(([key, seconds]) => ({
    id: key,
    label: t(key),
    icon: "bell-off",
    run: () => setMute(chatId, seconds === null ? "forever" : Math.floor(Date.now() / 1000) + seconds, "mutedNote"),
  }));
}
