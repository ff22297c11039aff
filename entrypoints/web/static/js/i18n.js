// The scripts' texts and limits, from the JSON the page carries (#page-data): the same
// catalogue the server renders the page from (entrypoints/web/i18n/<lang>.toml), so
// every text and every error code has one translation per language.

const data = JSON.parse(document.getElementById("page-data")?.textContent || "{}");
const texts = data.texts || {};
const errors = data.errors || {};

export const lang = data.lang === "en" ? "en" : "ru";

/** The limits the server enforces (messenger_core/limits.py), for guiding the user. */
export const limits = data.limits || {};

function fill(template, params) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (params && name in params ? String(params[name]) : whole));
}

/** A text of the scripts, its {placeholders} filled from ``params``. */
export function t(key, params) {
  const value = texts[key];
  return value === undefined ? key : fill(value, params);
}

/** Where an error's text is found: its code; a "not_found" names its kind (params.what). */
function errorKey(code, params) {
  return code === "not_found" && params && params.what ? `not_found.${params.what}` : code;
}

/** An error of the API in the reader's language; ``fallback`` when the code is unknown. */
export function errorText(code, params, fallback) {
  const template = errors[errorKey(code, params)];
  return template === undefined ? fallback || t("somethingWrong") : fill(template, params);
}
