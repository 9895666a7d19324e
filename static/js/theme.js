// The colour theme, applied before the page is drawn (loaded in <head>, so no flash of the wrong
// colours). "auto" follows the system's light/dark preference, live; "light" and "dark" are the
// user's choice from the navigation bar's switch, remembered in this browser (localStorage).
(function () {
  "use strict";
  var KEY = "crm-theme";
  var media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function stored() {
    try {
      var value = window.localStorage.getItem(KEY);
      return value === "light" || value === "dark" ? value : "auto";
    } catch (e) {
      return "auto";
    }
  }

  function apply(choice) {
    var dark = choice === "dark" || (choice === "auto" && media !== null && media.matches);
    document.documentElement.setAttribute("data-bs-theme", dark ? "dark" : "light");
    document.documentElement.setAttribute("data-theme-choice", choice);
  }

  function set(choice) {
    try {
      if (choice === "auto") { window.localStorage.removeItem(KEY); } else { window.localStorage.setItem(KEY, choice); }
    } catch (e) { /* private mode: the choice lasts for this page only */ }
    apply(choice);
  }

  apply(stored());
  if (media !== null && media.addEventListener) {
    media.addEventListener("change", function () { apply(stored()); });
  }
  window.crmTheme = { choice: stored, set: set };
})();
