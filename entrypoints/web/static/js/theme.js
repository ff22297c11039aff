// The colour theme: "system" (the default: prefers-color-scheme, followed live), "light" or
// "dark", remembered in localStorage. It sets data-bs-theme on <html>, which switches
// Bootstrap's colour mode and the app's own colours (scss/_theme.scss).
//
// A classic script loaded synchronously in <head>, before the stylesheet, so the attribute
// is there before the first paint: a module would run after parsing, too late, and the CSP
// allows no inline script. The profile page's toggle calls window.messengerTheme.choose();
// every change (here or in another tab) is announced with a "themechange" event on window.
(() => {
  "use strict";

  const KEY = "messenger.theme";
  const CHOICES = Object.freeze(["system", "light", "dark"]);
  const systemDark = window.matchMedia("(prefers-color-scheme: dark)");

  function stored() {
    try {
      const value = localStorage.getItem(KEY);
      return CHOICES.includes(value) ? value : "system";
    } catch {
      return "system"; // storage is blocked: follow the system
    }
  }

  // Held here as well as stored, so a choice still holds on this page when storage is blocked.
  let choice = stored();

  function apply() {
    const theme = choice === "system" ? (systemDark.matches ? "dark" : "light") : choice;
    if (document.documentElement.dataset.bsTheme !== theme) document.documentElement.dataset.bsTheme = theme;
  }

  function changed() {
    apply();
    window.dispatchEvent(new CustomEvent("themechange", { detail: { choice } }));
  }

  function choose(value) {
    if (!CHOICES.includes(value)) throw new RangeError(`Unknown theme: ${value}`);
    choice = value;
    try {
      if (value === "system") localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, value);
    } catch {
      /* not remembered, but applied to this page */
    }
    changed();
  }

  apply();
  systemDark.addEventListener("change", apply);
  // Another tab chose (storage events come only from other tabs), or this page comes back
  // from the back-forward cache after a choice made elsewhere.
  window.addEventListener("storage", (event) => {
    if (event.key !== KEY && event.key !== null) return;
    choice = stored();
    changed();
  });
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted || stored() === choice) return;
    choice = stored();
    changed();
  });

  window.messengerTheme = Object.freeze({
    CHOICES,
    get choice() {
      return choice;
    },
    choose,
  });
})();
