// Web and mail addresses in message text, found conservatively and made links with DOM
// nodes only. Found: text that starts with http://, https://, mailto: or www. and runs to
// the next space; closing punctuation that ends a sentence (or a bracket it did not open)
// stays text. Kept: what URL() parses as http(s) with a host that has a dot (or is
// localhost), or as mailto with an address. Anything else, javascript: included, is text.

import { h } from "../dom.js";

const CANDIDATE = /(?<![\p{L}\p{N}_@./:+-])(?:https?:\/\/|mailto:|www\.)[^\s<>"'`]+/giu;
const TRAILING = new Set([".", ",", ";", ":", "!", "?", "»", "…", "*", "_", "~"]);
const CLOSING = { ")": "(", "]": "[", "}": "{" };

function count(text, char) {
  let n = 0;
  for (const c of text) if (c === char) n += 1;
  return n;
}

/** The candidate without what ends the sentence around it. */
function trim(raw) {
  let text = raw;
  for (;;) {
    const last = text.slice(-1);
    if (TRAILING.has(last)) text = text.slice(0, -1);
    else if (last in CLOSING && count(text, CLOSING[last]) < count(text, last)) text = text.slice(0, -1);
    else return text;
  }
}

/** The address a found text links to, or null when it is no safe link. */
export function linkTarget(text) {
  const href = /^www\./i.test(text) ? `https://${text}` : text;
  let url;
  try {
    url = new URL(href);
  } catch {
    return null;
  }
  if (url.protocol === "mailto:") {
    return /^[^@\s/]+@[^@\s/]+\.[^@\s/.]+$/u.test(url.pathname) ? url.href : null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (url.username || url.password) return null; // "https://bank.ru@evil.example" misleads
  const host = url.hostname;
  if (host !== "localhost" && !/\.[^.]+$/.test(host)) return null;
  return url.href;
}

/** The text cut into parts: {text} and {text, href} for each link found, in order. */
export function findLinks(text) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(CANDIDATE)) {
    const found = trim(match[0]);
    const href = linkTarget(found);
    if (!href) continue;
    if (match.index > last) parts.push({ text: text.slice(last, match.index) });
    parts.push({ text: found, href });
    last = match.index + found.length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

/** A link that opens in a new tab and tells the site nothing of where it came from. */
export function linkNode(part) {
  return h("a", { class: "message-link", href: part.href, target: "_blank", rel: "noopener noreferrer nofollow", text: part.text });
}
