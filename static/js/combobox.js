// The searchable autocomplete of organizations, contacts and owners (core/widgets.py).
// Progressive enhancement over a <select data-autocomplete="url"> that holds only the chosen record:
// an input with role=combobox and a listbox (the WAI-ARIA 1.2 combobox pattern) asks the JSON
// endpoint for matches as one types; choosing one puts it in the <select>, which the form posts as
// before. ``data-autocomplete-depends="organization"`` sends that field's value along (the contacts
// of the chosen organization). No inline scripts or styles: the Content-Security-Policy forbids them.
(function () {
  "use strict";

  var counter = 0;

  function debounce(fn, wait) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, wait);
    };
  }

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return values[key]; });
  }

  function enhance(select) {
    if (select.getAttribute("data-combobox-ready")) { return; }
    select.setAttribute("data-combobox-ready", "1");
    counter += 1;
    var id = select.id || ("combobox-" + counter);
    var listId = id + "-listbox";
    var url = select.getAttribute("data-autocomplete");
    var depends = select.getAttribute("data-autocomplete-depends");
    var form = select.form;

    var wrapper = document.createElement("div");
    wrapper.className = "combobox";
    var input = document.createElement("input");
    input.type = "text";
    input.className = select.className.replace(/\bform-select(-sm)?\b/g, "form-control$1");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("autocomplete", "off");
    input.setAttribute("placeholder", select.getAttribute("data-autocomplete-placeholder") || "");
    ["aria-invalid", "aria-describedby", "required"].forEach(function (name) {
      if (select.hasAttribute(name)) { input.setAttribute(name, select.getAttribute(name)); }
    });
    // The browser checks "required" on the visible input: a hidden <select> cannot show the message.
    select.removeAttribute("required");
    // The page's <label for="id"> now names the input; the <select> stays as the value the form posts.
    select.id = id + "-select";
    input.id = id;
    select.hidden = true;
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;

    var popup = document.createElement("div");
    popup.className = "combobox-list";
    popup.hidden = true;
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "list-unstyled mb-0";
    list.setAttribute("role", "listbox");
    var labelEl = document.querySelector("label[for='" + id + "']");
    if (labelEl) {
      if (!labelEl.id) { labelEl.id = id + "-label"; }
      list.setAttribute("aria-labelledby", labelEl.id);
    }
    var meta = document.createElement("div");
    meta.className = "combobox-meta";
    meta.setAttribute("aria-live", "polite");
    meta.setAttribute("data-testid", "combobox-count");
    popup.appendChild(list);
    popup.appendChild(meta);

    select.parentNode.insertBefore(wrapper, select);
    wrapper.appendChild(input);
    wrapper.appendChild(popup);
    wrapper.appendChild(select);

    function chosenLabel() {
      var option = select.options[select.selectedIndex];
      return option && option.value ? option.textContent : "";
    }
    input.value = chosenLabel();

    var results = [];
    var active = -1;
    var request = 0;

    function close() {
      popup.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function setActive(index) {
      var options = list.querySelectorAll("[role=option]");
      if (!options.length) { return; }
      active = (index + options.length) % options.length;
      options.forEach(function (el, i) { el.setAttribute("aria-selected", i === active ? "true" : "false"); });
      input.setAttribute("aria-activedescendant", options[active].id);
      options[active].scrollIntoView({ block: "nearest" });
    }

    function choose(result) {
      select.replaceChildren();
      var empty = document.createElement("option");
      empty.value = "";
      select.appendChild(empty);
      if (result) {
        var option = document.createElement("option");
        option.value = String(result.id);
        option.textContent = result.label;
        option.selected = true;
        select.appendChild(option);
      }
      select.value = result ? String(result.id) : "";
      input.value = result ? result.label : "";
      close();
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function render(body) {
      results = body.results || [];
      list.replaceChildren();
      results.forEach(function (result, i) {
        var li = document.createElement("li");
        li.id = listId + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = result.label;  // textContent: names are data, never markup
        if (result.detail) {
          var detail = document.createElement("span");
          detail.className = "small text-body-secondary ms-2";
          detail.textContent = result.detail;
          li.appendChild(detail);
        }
        li.addEventListener("mousedown", function (event) { event.preventDefault(); });  // keep the focus
        li.addEventListener("click", function () { choose(result); });
        list.appendChild(li);
      });
      if (!results.length) {
        meta.textContent = select.getAttribute("data-autocomplete-empty") || "";
      } else if (body.more) {
        meta.textContent = format(select.getAttribute("data-autocomplete-more") || "", {
          shown: results.length, count: body.count
        });
      } else {
        meta.textContent = "";
      }
      popup.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }

    function search() {
      var params = new URLSearchParams({ q: input.value === chosenLabel() ? "" : input.value });
      if (depends && form && form.elements[depends] && form.elements[depends].value) {
        params.set(depends, form.elements[depends].value);
      }
      request += 1;
      var mine = request;
      fetch(url + "?" + params.toString(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (body) { if (mine === request && document.activeElement === input) { render(body); } })
        .catch(function () { close(); });
    }
    var searchSoon = debounce(search, 200);

    input.addEventListener("input", searchSoon);
    input.addEventListener("focus", function () { input.select(); search(); });
    input.addEventListener("keydown", function (event) {
      var open = !popup.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (open) { setActive(active + 1); } else { search(); }
      } else if (event.key === "ArrowUp") {
        if (open) { event.preventDefault(); setActive(active - 1); }
      } else if (event.key === "Enter") {
        if (open && active >= 0) { event.preventDefault(); choose(results[active]); }
      } else if (event.key === "Escape") {
        if (open) { event.preventDefault(); event.stopPropagation(); close(); input.value = chosenLabel(); }
      }
    });
    input.addEventListener("blur", function () {
      close();
      if (!input.value.trim()) {
        if (select.value) { choose(null); }  // emptied: no record chosen
      } else {
        input.value = chosenLabel();  // typed but not chosen: back to what is chosen
      }
    });
  }

  function init(root) {
    (root || document).querySelectorAll("select[data-autocomplete]").forEach(enhance);
  }

  window.CrmCombobox = { init: init };
  init(document);
})();
