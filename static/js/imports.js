// Import progress: the server renders data-progress; set the bar width from it (no inline styles),
// on load and after each htmx poll swaps the progress card.
(function () {
  "use strict";

  function paint(root) {
    (root || document).querySelectorAll(".progress-bar[data-progress]").forEach(function (bar) {
      bar.style.width = Math.max(0, Math.min(100, parseInt(bar.getAttribute("data-progress"), 10) || 0)) + "%";
    });
  }

  paint(document);
  document.addEventListener("htmx:afterSettle", function () { paint(document); });
})();
