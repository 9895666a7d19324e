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
