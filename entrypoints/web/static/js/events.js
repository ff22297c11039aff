// The live event stream: long-polls GET /api/v1/events and hands events to subscribers,
// and the ephemeral signals (chat.typing) beside them, marked ``ephemeral``.

import { api } from "./api.js";

const subscribers = new Set();
const resyncers = new Set();
const statusWatchers = new Set();
let started = false;

/** Call fn(event) for every event that arrives. */
export function subscribe(fn) {
  subscribers.add(fn);
  startEvents();
}

/** Call fn() when the stream lost events (410): the page must reload its state. */
export function onResync(fn) {
  resyncers.add(fn);
}

/** Call fn(online) when the connection is lost or back. */
export function onConnection(fn) {
  statusWatchers.add(fn);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Reconnecting: the first retry within a second, then doubling up to ~10 s; the browser
// coming back online or the tab becoming visible ends the wait at once.
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10000;
let wakeRetry = null;

function retryWait(ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      wakeRetry = null;
      resolve();
    }
    wakeRetry = done;
  });
}

function retryNow() {
  if (wakeRetry) wakeRetry();
}

window.addEventListener("online", retryNow);
// Going offline ends the long poll in flight (a browser may keep it open for its whole
// timeout), so the page says at once that it is offline.
let polling = null;
window.addEventListener("offline", () => {
  if (polling) polling.abort();
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") retryNow();
});

function setOnline(online) {
  for (const fn of statusWatchers) fn(online);
}

export function startEvents() {
  if (started) return;
  started = true;
  loop();
}

async function loop() {
  let cursor = null;
  let signalCursor = null;
  let backoff = RETRY_FIRST_MS;
  let online = true;
  for (;;) {
    const began = Date.now();
    try {
      // Back from a failure, a poll that answers at once: the connection is known to be
      // back (the banner goes) without waiting out a long poll.
      const query = cursor === null ? {} : { since: cursor, timeout: online ? 25 : 0 };
      if (cursor !== null && signalCursor !== null) query.signals_since = signalCursor;
      polling = new AbortController();
      const data = await api("/api/v1/events", { query, signal: polling.signal });
      if (!online) {
        online = true;
        setOnline(true);
      }
      backoff = RETRY_FIRST_MS;
      const signals = (data.signals || []).map((signal) => ({ ...signal, ephemeral: true }));
      const events = [...(data.events || []), ...signals];
      cursor = data.cursor;
      if (data.signal_cursor !== undefined && data.signal_cursor !== null) signalCursor = data.signal_cursor;
      for (const event of events) {
        for (const fn of subscribers) {
          try {
            fn(event);
          } catch (error) {
            console.error("event handler failed", event.type, error);
          }
        }
      }
      // The server answers at once when its waiters are full: poll again a bit later.
      if (query.timeout && events.length === 0 && Date.now() - began < 1000) await sleep(3000);
    } catch (error) {
      if (error && error.status === 410) {
        cursor = null;
        for (const fn of resyncers) fn();
        continue;
      }
      if (error && error.status === 401) return; // api() is taking the page to /login
      if (online && !(error && error.status)) {
        online = false;
        setOnline(false);
      }
      await retryWait(Math.min(backoff + Math.random() * backoff * 0.5, RETRY_MAX_MS));
      backoff = Math.min(backoff * 2, RETRY_MAX_MS);
    }
  }
}
