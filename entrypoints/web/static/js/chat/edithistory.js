// A message's edit history ("изменено" opens it, as does the menu): every text it has
// had, oldest first, each with when it was written, in a small dialog.

import { api } from "../api.js";
import { fullTime, h, isoTime } from "../dom.js";
import { t } from "../i18n.js";

let dialog = null; // { el, list }

function build() {
  const close = h("button", { type: "button", class: "btn-close", "aria-label": t("close"), title: t("close") });
  const list = h("ol", { class: "versions" });
  const el = h("dialog", { class: "app-dialog history-dialog", "aria-labelledby": "history-dialog-title" },
    h("div", { class: "dialog-form" },
      h("header", { class: "dialog-head" }, h("h2", { id: "history-dialog-title", text: t("editHistory") }), close),
      h("div", { class: "dialog-body" }, list),
    ),
  );
  close.addEventListener("click", () => el.close());
  el.addEventListener("click", (event) => {
    if (event.target === el) el.close();
  });
  document.body.append(el);
  return { el, list };
}

function versionItem(version, index, all) {
  const current = index === all.length - 1;
  return h(
    "li",
    { class: `version${current ? " is-current" : ""}` },
    h("p", { class: "version-head" },
      h("time", { datetime: isoTime(version.date), text: fullTime(version.date) }),
      h("span", { class: "version-kind", text: current ? t("versionCurrent") : index === 0 ? t("versionOriginal") : "" }),
    ),
    h("p", { class: "version-text", dir: "auto", text: version.text }),
  );
}

/** Open the history of message `messageId`. */
export async function showEditHistory(messageId) {
  if (!dialog) dialog = build();
  dialog.list.replaceChildren(h("li", { class: "version-note", text: t("loading") }));
  dialog.el.showModal();
  try {
    const data = await api(`/api/v1/messages/${messageId}/history`);
    const versions = data.versions;
    dialog.list.replaceChildren(
      ...(versions.length ? versions.map(versionItem) : [h("li", { class: "version-note", text: t("noVersions") })]),
    );
  } catch {
    dialog.list.replaceChildren(h("li", { class: "version-note", text: t("somethingWrong") }));
  }
}
