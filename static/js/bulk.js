// The bulk bar of a list (bulk app): select every row of the page, count what is selected.
// Without JavaScript the checkboxes and the bar's buttons work as a plain form.
(function () {
  "use strict";
  const form = document.querySelector("[data-bulk]");
  if (!form) return;
  const rows = () => Array.from(document.querySelectorAll("[data-bulk-row]"));
  const pageBox = document.querySelector("[data-bulk-page]");
  const allBox = form.querySelector("[data-bulk-all]");
  const counter = form.querySelector("[data-bulk-count]");
  const labels = counter.dataset;

  function refresh() {
    const checked = rows().filter((box) => box.checked).length;
    if (allBox.checked) {
      counter.textContent = labels.all;
    } else if (checked) {
      counter.textContent = labels.selected.replace("%(count)s", checked);
    } else {
      counter.textContent = labels.none;
    }
    if (pageBox) pageBox.checked = checked > 0 && checked === rows().length;
  }
  if (pageBox) {
    pageBox.addEventListener("change", () => {
      rows().forEach((box) => { box.checked = pageBox.checked; });
      if (!pageBox.checked) allBox.checked = false;
      refresh();
    });
  }
  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-bulk-row]")) {
      if (!event.target.checked) allBox.checked = false;
      refresh();
    }
  });
  allBox.addEventListener("change", () => {
    if (allBox.checked) rows().forEach((box) => { box.checked = true; });
    refresh();
  });
  refresh();
})();
