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

const pluralRules = new Intl.PluralRules(lang === "en" ? "en" : "ru");

/**
 * A text that agrees with the number ``n``: the catalogue's ``key_one``, ``key_few``,
 * ``key_many`` or ``key_other``, as the language's plural rules pick (Russian: 1 участник,
 * 2 участника, 5 участников; English uses one and other), ``{n}`` filled in.
 */
export function tn(key, n, params) {
  const value = texts[`${key}_${pluralRules.select(n)}`] ?? texts[`${key}_other`];
  return value === undefined ? key : fill(value, { n, ...params });
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
