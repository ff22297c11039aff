// Building DOM nodes. User text only ever goes in as text nodes (never as HTML).

import { lang } from "./i18n.js";

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

const locale = lang === "en" ? "en-GB" : "ru-RU";
const timeFormat = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short" });
const fullFormat = new Intl.DateTimeFormat(locale, { dateStyle: "long", timeStyle: "short" });

export function shortTime(unixSeconds) {
  if (!unixSeconds) return "";
  const date = new Date(unixSeconds * 1000);
  const now = new Date();
  if (date.toDateString() === now.toDateString()) return timeFormat.format(date);
  return dayFormat.format(date);
}

const longDayFormat = new Intl.DateTimeFormat(locale, { day: "numeric", month: "long" });
const yearDayFormat = new Intl.DateTimeFormat(locale, { day: "numeric", month: "long", year: "numeric" });

export function dayLabel(unixSeconds) {
  const date = new Date(unixSeconds * 1000);
  const now = new Date();
  if (date.toDateString() === now.toDateString()) return lang === "en" ? "Today" : "Сегодня";
  const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
  if (date.toDateString() === yesterday.toDateString()) return lang === "en" ? "Yesterday" : "Вчера";
  return (date.getFullYear() === now.getFullYear() ? longDayFormat : yearDayFormat).format(date);
}

export function clockTime(unixSeconds) {
  return unixSeconds ? timeFormat.format(new Date(unixSeconds * 1000)) : "";
}

export function fullTime(unixSeconds) {
  return unixSeconds ? fullFormat.format(new Date(unixSeconds * 1000)) : "";
}

export function isoTime(unixSeconds) {
  return unixSeconds ? new Date(unixSeconds * 1000).toISOString() : "";
}

export function fileSize(bytes) {
  const units = lang === "en" ? ["B", "KB", "MB", "GB"] : ["Б", "КБ", "МБ", "ГБ"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = unit === 0 ? String(value) : value.toFixed(value < 10 ? 1 : 0);
  return `${shown.replace(".", lang === "en" ? "." : ",")} ${units[unit]}`;
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export function fullName(user) {
  return `${user.first_name} ${user.second_name}`.trim();
}

export function avatar(user, size = 40, cls = "") {
  return h("img", {
    class: `avatar ${cls}`.trim(),
    src: user.avatar,
    alt: "",
    width: size,
    height: size,
    loading: "lazy",
    decoding: "async",
  });
}

export function icon(name, cls = "") {
  return h("span", { class: `icon icon-${name} ${cls}`.trim(), "aria-hidden": "true" });
}
