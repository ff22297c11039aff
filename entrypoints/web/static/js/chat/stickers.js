// The sticker panel above the composer: packs loaded once, a click sends the sticker.

import { api } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { showComposerError } from "./composer.js";
import { onNewMessage } from "./live.js";

let stickerPacks = null;

/** The sticker button opens and closes the panel; Escape in it closes it. */
export function wireStickers(view) {
  const ui = view.ui;
  ui.stickerButton.addEventListener("click", () => toggleStickers(view));
  ui.stickerPanel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      toggleStickers(view, false);
      ui.stickerButton.focus();
    }
  });
}

function packView(view, pack) {
  return h(
    "section",
    { class: "sticker-pack" },
    h("h3", { class: "sticker-pack-title", text: pack.title }),
    h(
      "div",
      { class: "sticker-grid" },
      pack.stickers.map((sticker, index) =>
        h(
          "button",
          {
            type: "button",
            class: "sticker-choice",
            "aria-label": `${t("sticker")} ${index + 1} · ${pack.title}`,
            dataset: { stickerId: sticker.id },
            onclick: () => sendSticker(view, sticker.id),
          },
          h("img", { src: sticker.url, alt: "", width: 64, height: 64, loading: "lazy" }),
        ),
      ),
    ),
  );
}

async function toggleStickers(view, show) {
  const ui = view.ui;
  const open = show ?? ui.stickerPanel.hidden;
  ui.stickerPanel.hidden = !open;
  ui.stickerButton.setAttribute("aria-expanded", String(open));
  if (!open) return;
  if (!stickerPacks) {
    ui.stickerPanel.replaceChildren(h("p", { class: "sticker-empty", text: "…" }));
    try {
      stickerPacks = (await api("/api/v1/stickers")).packs;
    } catch (error) {
      ui.stickerPanel.replaceChildren(h("p", { class: "sticker-empty", text: t("somethingWrong") }));
      return;
    }
  }
  if (!stickerPacks.length) {
    ui.stickerPanel.replaceChildren(h("p", { class: "sticker-empty", text: t("noStickers") }));
    return;
  }
  ui.stickerPanel.replaceChildren(...stickerPacks.map((pack) => packView(view, pack)));
  ui.stickerPanel.querySelector("button")?.focus();
}

async function sendSticker(view, stickerId) {
  toggleStickers(view, false);
  try {
    const data = await api(`/api/v1/chats/${view.id}/messages`, { method: "POST", body: { sticker_id: stickerId } });
    onNewMessage(data.message);
  } catch (error) {
    showComposerError(view, error);
  }
  view.ui.textarea.focus();
}
