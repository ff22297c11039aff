// The JSON API from the pages: cookies for auth, the CSRF cookie echoed in a header,
// and a silent token refresh when the access token has expired.

import { errorText } from "./i18n.js";

/**
 * An error answer of the API. ``text`` is its message in the reader's language and
 * ``fieldTexts`` maps each bad field to its own; ``message`` and ``fields`` keep the
 * server's English.
 */
export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "";
    this.params = error.params || {};
    this.fields = error.fields || {};
    this.text = errorText(this.code, this.params, error.message);
    this.fieldTexts = Object.fromEntries(
      Object.entries(error.details || {}).map(([name, detail]) => [
        name,
        errorText(detail.code, detail.params, this.fields[name]),
      ]),
    );
  }
}

export function csrfToken() {
  const pair = document.cookie.split("; ").find((c) => c.startsWith("csrf_token="));
  return pair ? decodeURIComponent(pair.slice("csrf_token=".length)) : "";
}

let refreshing = null;

/** Renew the access cookie from the refresh cookie; concurrent callers share one request. */
export function refreshAccess() {
  if (!refreshing) {
    refreshing = fetch("/api/v1/refresh", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken(), Accept: "application/json" },
    })
      .then((response) => response.ok)
      .catch(() => false)
      .finally(() => {
        setTimeout(() => (refreshing = null), 0);
      });
  }
  return refreshing;
}

let leaving = false;
// A page on its way elsewhere (a link, "Выйти") must not be sent to /login by a request
// that the navigation itself ended: signing out revokes the session, and the event
// stream's wait answers 401 before the next page arrives. A navigation that does not
// leave (a download) gives the flag back.
addEventListener("beforeunload", () => {
  leaving = true;
  setTimeout(() => {
    leaving = false;
  }, 10000);
});
let writing = Promise.resolve(); // this page's latest change: it may be renewing the cookies

// Why a session ended, as the login page explains it (pages.ENDED_NOTICES).
const ENDED = ["ended_elsewhere", "password_changed", "refresh_reused", "idle"];

/** Off to /login, saying why the session ended when the server said so. */
export function goToLogin(ended) {
  if (leaving) return;
  leaving = true;
  const here = location.pathname + location.search;
  const why = ENDED.includes(ended) ? `&ended=${encodeURIComponent(ended)}` : "";
  location.assign(`/login?next=${encodeURIComponent(here)}${why}`);
}

function endedOf(data) {
  return data && data.error && data.error.params ? data.error.params.ended : undefined;
}

async function readBody(response) {
  const type = response.headers.get("Content-Type") || "";
  if (!type.includes("json")) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

function urlWith(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null) params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/**
 * Call the API and return its JSON. Throws ApiError for error answers (401s that are
 * not an expired token send the page to /login) and TypeError for network failures.
 */
export async function api(path, { method = "GET", body, query, signal } = {}, retried = false) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const request = fetch(urlWith(path, query), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
    signal,
  });
  if (method !== "GET" && method !== "HEAD") writing = request.then(() => null, () => null);
  const response = await request;
  const data = await readBody(response);
  if (response.status === 401) {
    const code = data && data.error ? data.error.code : "";
    if (code === "token_expired" && !retried && (await refreshAccess())) {
      return api(path, { method, body, query, signal }, true);
    }
    // A new password or email rotates the identity and its answer brings new cookies; a
    // request that crossed it (the event stream, woken by that change) had the old ones:
    // once this page's last change is answered, try once more with the cookies it set.
    if (code === "token_revoked" && !retried) {
      await writing;
      return api(path, { method, body, query, signal }, true);
    }
    goToLogin(endedOf(data));
    return new Promise(() => {}); // the page is leaving: callers need not handle this
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/**
 * Upload one file as multipart (field "file") with progress. Returns {promise, abort};
 * the promise resolves to the JSON answer. XMLHttpRequest because fetch reports no
 * upload progress.
 */
export function upload(path, file, { method = "POST", onProgress } = {}) {
  let xhr = null;
  let aborted = false;
  const send = (retried) =>
    new Promise((resolve, reject) => {
      xhr = new XMLHttpRequest();
      xhr.open(method, path);
      xhr.withCredentials = true;
      xhr.responseType = "json";
      xhr.setRequestHeader("X-CSRF-Token", csrfToken());
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
      });
      xhr.addEventListener("load", async () => {
        const data = xhr.response;
        if (xhr.status === 401) {
          const code = data && data.error ? data.error.code : "";
          if (code === "token_expired" && !retried && (await refreshAccess())) {
            send(true).then(resolve, reject);
            return;
          }
          goToLogin(endedOf(data));
          return; // the page is leaving
        }
        if (xhr.status >= 200 && xhr.status < 300) resolve(data);
        else reject(new ApiError(xhr.status, data));
      });
      xhr.addEventListener("error", () => reject(new TypeError("network error")));
      xhr.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
      const form = new FormData();
      form.append("file", file, file.name);
      xhr.send(form);
    });
  const promise = send(false);
  return {
    promise,
    abort() {
      aborted = true;
      if (xhr) xhr.abort();
    },
    get aborted() {
      return aborted;
    },
  };
}
