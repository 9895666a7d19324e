// The navigation bar's global search: suggestions as one types (a debounced fetch of
// /search/suggest/), arrow keys to move, Enter to open, Escape to close. Without JavaScript the
// form still submits to the full results page.
(function () {
  "use strict";
  var form = document.querySelector("form[data-global-search]");
  if (!form) { return; }
  var input = form.querySelector("input[name=q]");
  var menu = form.querySelector(".global-search-results");
  var url = form.getAttribute("data-suggest-url");
  var timer = null;
  var sequence = 0;
  var active = -1;

  function items() { return menu.querySelectorAll("a.dropdown-item"); }

  function close() {
    menu.classList.remove("show");
    input.setAttribute("aria-expanded", "false");
    active = -1;
  }

  function mark(index) {
    var links = items();
    links.forEach(function (link, i) {
      link.classList.toggle("active", i === index);
      link.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    active = index;
    if (links[index]) { links[index].scrollIntoView({block: "nearest"}); }
  }

  function render(data) {
    menu.textContent = "";
    if (!data.groups.length && !data.empty) { close(); return; }
    data.groups.forEach(function (group) {
      var header = document.createElement("h6");
      header.className = "dropdown-header";
      header.textContent = group.label;
      menu.appendChild(header);
      group.results.forEach(function (result) {
        var link = document.createElement("a");
        link.className = "dropdown-item";
        link.href = result.url;
        link.setAttribute("role", "option");
        link.setAttribute("data-kind", group.kind);
        var title = document.createElement("div");
        title.className = "text-truncate";
        title.textContent = result.title;
        link.appendChild(title);
        if (result.subtitle) {
          var sub = document.createElement("div");
          sub.className = "small text-body-secondary text-truncate";
          sub.textContent = result.subtitle;
          link.appendChild(sub);
        }
        menu.appendChild(link);
      });
    });
    if (data.empty) {
      var none = document.createElement("span");
      none.className = "dropdown-item-text text-body-secondary";
      none.textContent = data.empty;
      menu.appendChild(none);
    }
    if (data.all_url) {
      var divider = document.createElement("hr");
      divider.className = "dropdown-divider";
      menu.appendChild(divider);
      var all = document.createElement("a");
      all.className = "dropdown-item small";
      all.href = data.all_url;
      all.setAttribute("role", "option");
      all.textContent = form.getAttribute("data-all-label") || "…";
      menu.appendChild(all);
    }
    menu.classList.add("show");
    input.setAttribute("aria-expanded", "true");
    active = -1;
  }

  function fetchSuggestions() {
    var query = input.value.trim();
    if (query.length < 2) { close(); return; }
    var mine = ++sequence;
    fetch(url + "?q=" + encodeURIComponent(query), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && mine === sequence && input.value.trim() === query) { render(data); }
      })
      .catch(function () { /* the full page still works: Enter submits the form */ });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(fetchSuggestions, 200);
  });
  input.addEventListener("keydown", function (event) {
    var links = items();
    if (event.key === "ArrowDown" && links.length) {
      event.preventDefault();
      mark(Math.min(active + 1, links.length - 1));
    } else if (event.key === "ArrowUp" && links.length) {
      event.preventDefault();
      mark(Math.max(active - 1, 0));
    } else if (event.key === "Enter" && active >= 0 && links[active]) {
      event.preventDefault();
      window.location.assign(links[active].href);
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("focus", function () { if (menu.children.length && input.value.trim().length >= 2) { menu.classList.add("show"); } });
  document.addEventListener("click", function (event) {
    if (!form.contains(event.target)) { close(); }
  });
})();
