// Site-wide behaviour. No inline scripts anywhere: the Content-Security-Policy forbids them.
(function () {
  "use strict";

  // Forms with data-confirm ask before submitting (archive, restore, purge...).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // Send Django's CSRF token with every htmx request.
  document.addEventListener("htmx:configRequest", function (event) {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    var token = match ? decodeURIComponent(match[1]) : input && input.value;
    if (token) {
      event.detail.headers["X-CSRFToken"] = token;
    }
  });

  // Forms that choose a stage (the deal form, the move form) show the lost-reason fields only
  // when a lost stage is chosen. The server lists the lost stages in data-lost-stages.
  function syncLostFields(form) {
    var select = form.querySelector("select[name=stage]");
    if (!select) { return; }
    var lostStages = (form.getAttribute("data-lost-stages") || "").split(",");
    var isLost = lostStages.indexOf(select.value) !== -1;
    form.querySelectorAll("[data-lost-only], [data-field=lost_reason], [data-field=lost_note]").forEach(function (el) {
      el.classList.toggle("d-none", !isLost);
    });
  }
  document.querySelectorAll("form[data-lost-stages]").forEach(syncLostFields);
  // Delegated, so forms added later (board cards loaded with "more", replaced after a move) work too.
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-lost-stages]");
    if (form) { syncLostFields(form); }
  });
})();

// --- Theme switch and keyboard shortcuts (issue 16) -------------------------------------------
(function () {
  "use strict";

  // The navigation bar's theme switch: Auto (the system's preference), Light, Dark.
  function markTheme() {
    var choice = window.crmTheme ? window.crmTheme.choice() : "auto";
    document.querySelectorAll("[data-set-theme]").forEach(function (button) {
      var on = button.getAttribute("data-set-theme") === choice;
      button.classList.toggle("active", on);
      button.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-set-theme]");
    if (button && window.crmTheme) {
      window.crmTheme.set(button.getAttribute("data-set-theme"));
      markTheme();
    }
  });
  markTheme();

  // Shortcuts: "/" search, "n" new deal, "?" the list of shortcuts. Never while typing.
  function typing(target) {
    if (!target || !target.closest) { return false; }
    return target.isContentEditable || target.closest("input, textarea, select, [contenteditable]") !== null;
  }
  function search() {
    var field = document.querySelector("main input[name=q]:not([type=hidden])");
    if (field) {
      field.focus();
      field.select();
      return;
    }
    var global = document.getElementById("global-search");
    if (global && global.offsetParent !== null) {
      global.focus();
      global.select();
      return;
    }
    var url = document.body.getAttribute("data-search-url");
    if (url) { window.location.assign(url + "#search"); }
  }
  if (window.location.hash === "#search") {
    var field = document.querySelector("main input[name=q]:not([type=hidden])");
    if (field) { field.focus(); }
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented || typing(event.target)) { return; }
    if (document.querySelector(".modal.show")) { return; }
    var body = document.body;
    if (event.key === "/") {
      event.preventDefault();
      search();
    } else if (event.key === "n" && body.getAttribute("data-new-deal-url")) {
      event.preventDefault();
      window.location.assign(body.getAttribute("data-new-deal-url"));
    } else if (event.key === "?") {
      var dialog = document.getElementById("shortcuts-dialog");
      if (dialog && window.bootstrap) {
        event.preventDefault();
        window.bootstrap.Modal.getOrCreateInstance(dialog).show();
      }
    }
  });
})();

// A table wider than the screen scrolls inside its box: keyboard users reach it with Tab and
// scroll it with the arrow keys (WCAG 2.1.1; axe "scrollable-region-focusable").
(function () {
  "use strict";
  function nameOf(box) {
    var table = box.querySelector("table");
    var caption = table && table.querySelector("caption");
    var card = box.closest(".card");
    var header = card && card.querySelector(".card-header");
    var heading = document.querySelector("main h1");
    var source = (table && table.getAttribute("aria-label")) || (caption && caption.textContent) ||
      (header && header.textContent) || (heading && heading.textContent) || "";
    return source.replace(/\s+/g, " ").trim();
  }
  function update() {
    document.querySelectorAll(".table-responsive").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", nameOf(box));
        box.setAttribute("data-scroll-focus", "");
      } else if (!scrolls && box.hasAttribute("data-scroll-focus")) {
        ["tabindex", "role", "aria-label", "data-scroll-focus"].forEach(function (name) { box.removeAttribute(name); });
      }
    });
  }
  update();
  window.addEventListener("resize", update);
  document.addEventListener("htmx:afterSettle", update);
})();
