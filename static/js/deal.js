// The deal page as the place to work: the clickable stage bar with its Won and Lost buttons, the
// details card edited in place, and the timeline's kinds and pages, all without reloading the page.
// Every answer of the server that changes the deal carries the redrawn parts of the page
// (data-fragment="…"), so what shows is always what the server saved. Without JavaScript, every
// button and link here is a plain form or link that does the same on its own page.
(function () {
  "use strict";

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function fromHTML(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  function toast(message, kind) {
    var container = document.querySelector("[data-toasts]");
    if (!container || !window.bootstrap) { return; }
    var el = document.createElement("div");
    el.className = "toast align-items-center border-0 text-bg-" + (kind || "success");
    el.setAttribute("role", kind === "danger" ? "alert" : "status");
    el.setAttribute("data-testid", "deal-toast");
    var body = document.createElement("div");
    body.className = "toast-body";
    body.textContent = message;  // textContent: messages may quote deal names
    el.appendChild(body);
    container.appendChild(el);
    var instance = window.bootstrap.Toast.getOrCreateInstance(el, { delay: kind === "danger" ? 9000 : 3000 });
    el.addEventListener("hidden.bs.toast", function () { el.remove(); });
    instance.show();
  }

  function alertBox(message) {
    var box = document.querySelector("[data-deal-alert]");
    if (!box) { return; }
    box.textContent = message || "";
    box.classList.toggle("d-none", !message);
  }

  function enhance(root) {
    if (window.CrmCombobox) { window.CrmCombobox.init(root); }
  }

  function replaceFragments(fragments) {
    Object.keys(fragments || {}).forEach(function (name) {
      var old = document.querySelector("[data-fragment='" + name + "']");
      if (!old) { return; }
      var fresh = fromHTML(fragments[name]);
      old.replaceWith(fresh);
      enhance(fresh);
    });
  }

  function send(url, body, headers) {
    return fetch(url, {
      method: body ? "POST" : "GET",
      body: body || undefined,
      credentials: "same-origin",
      headers: Object.assign({ "X-CSRFToken": csrfToken() }, headers || {})
    });
  }

  function postJSON(url, body) {
    return send(url, body, { "Accept": "application/json" }).then(function (response) {
      return response.json().then(function (json) { return { status: response.status, body: json }; },
        function () { return { status: response.status, body: { message: response.statusText } }; });
    });
  }

  function networkError() {
    var page = document.querySelector("[data-network-error]");
    toast(page ? page.getAttribute("data-network-error") : "Network error: the change was not saved.", "danger");
  }

  // ---- The board's two questions, asked before a move to a lost or a won stage ----------------
  function ask(modalId, formSelector, focusName) {
    return new Promise(function (resolve) {
      var modalEl = document.getElementById(modalId);
      var form = modalEl.querySelector(formSelector);
      var modal = window.bootstrap.Modal.getOrCreateInstance(modalEl);
      var answer = null;
      form.reset();
      function onSubmit(event) {
        event.preventDefault();
        if (!form.reportValidity()) { return; }
        answer = {};
        Array.prototype.forEach.call(form.elements, function (el) { if (el.name) { answer[el.name] = el.value; } });
        modal.hide();
      }
      function onHidden() {
        form.removeEventListener("submit", onSubmit);
        modalEl.removeEventListener("hidden.bs.modal", onHidden);
        resolve(answer);
      }
      form.addEventListener("submit", onSubmit);
      modalEl.addEventListener("hidden.bs.modal", onHidden);
      if (focusName) {
        modalEl.addEventListener("shown.bs.modal", function () { form.elements[focusName].focus(); }, { once: true });
      }
      modal.show();
    });
  }

  var moving = false;
  document.addEventListener("submit", function (event) {
    var form = event.target.closest && event.target.closest("form[data-stage-move]");
    if (!form) { return; }
    event.preventDefault();
    if (moving) { return; }
    var kind = form.getAttribute("data-stage-kind");
    var question = Promise.resolve({});
    if (kind === "lost") { question = ask("lost-modal", "[data-lost-form]", "lost_reason"); }
    if (kind === "won") { question = ask("won-modal", "[data-won-form]"); }
    question.then(function (extra) {
      if (extra === null) { return; }  // cancelled
      var body = new FormData(form);
      Object.keys(extra).forEach(function (key) { if (extra[key]) { body.append(key, extra[key]); } });
      moving = true;
      return postJSON(form.getAttribute("action"), body).then(function (result) {
        moving = false;
        if (result.status === 200 && result.body.ok) {
          alertBox("");
          replaceFragments(result.body.fragments);
          toast(result.body.message, "success");
          var current = document.querySelector("[data-fragment=stages] [aria-current=step]");
          if (current) { current.setAttribute("tabindex", "-1"); current.focus(); }
        } else {
          alertBox(result.body.message || "Error " + result.status);
          toast(result.body.message || "Error " + result.status, "danger");
        }
      }, function () { moving = false; networkError(); });
    });
  });

  // ---- In-place editing of the details card -----------------------------------------------------
  var originals = new WeakMap();

  // The cell a button edits: the one it sits in (a list's cell), or the details card's value.
  function fieldCell(button, name) {
    return button.closest("[data-inline-field]") ||
      document.querySelector("[data-fragment=details] [data-inline-field='" + name + "']");
  }

  function editButton(cell, name) {
    return cell.querySelector("[data-inline-edit]") ||
      document.querySelector("[data-fragment=details] [data-inline-edit='" + name + "']");
  }

  function showForm(cell, html) {
    var form = fromHTML(html);
    cell.replaceChildren(form);
    enhance(form);
    var invalid = form.querySelector("[aria-invalid=true], .is-invalid");
    var first = invalid || form.querySelector("input:not([type=hidden]), select, textarea");
    if (first) { first.focus(); }
  }

  function cancelEdit(cell) {
    if (!originals.has(cell)) { return; }
    cell.innerHTML = originals.get(cell);
    originals.delete(cell);
    var button = editButton(cell, cell.getAttribute("data-inline-field"));
    if (button) { button.focus(); }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-inline-edit]");
    if (button) {
      event.preventDefault();
      var name = button.getAttribute("data-inline-edit");
      var cell = fieldCell(button, name);
      if (!cell || originals.has(cell)) { return; }
      send(button.getAttribute("href"), null, { "X-Inline-Edit": "1" }).then(function (response) {
        if (!response.ok) { throw new Error(response.statusText); }
        return response.text();
      }).then(function (html) {
        originals.set(cell, cell.innerHTML);
        showForm(cell, html);
      }, networkError);
      return;
    }
    var cancel = event.target.closest && event.target.closest("[data-inline-cancel]");
    if (cancel) {
      event.preventDefault();
      cancelEdit(cancel.closest("[data-inline-field]"));
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented) { return; }
    var form = event.target.closest && event.target.closest("form[data-inline-form]");
    if (form) { cancelEdit(form.closest("[data-inline-field]")); }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target.closest && event.target.closest("form[data-inline-form]");
    if (!form) { return; }
    event.preventDefault();
    var cell = form.closest("[data-inline-field]");
    var name = form.getAttribute("data-inline-form");
    var row = cell.closest("tr[data-opportunity-id]");
    var body = new FormData(form);
    if (row) {
      body.append("row", "1");
      // The custom columns the list shows (?columns=), so the redrawn row has the same cells.
      new URLSearchParams(window.location.search).getAll("columns").forEach(function (column) {
        body.append("columns", column);
      });
    }
    postJSON(form.getAttribute("action"), body).then(function (result) {
      if (result.status === 200 && result.body.ok && result.body.row && row) {
        originals.delete(cell);
        var fresh = fromHTML("<table><tbody>" + result.body.row + "</tbody></table>").querySelector("tr");
        row.replaceWith(fresh);
        toast(result.body.message, "success");
        var again = fresh.querySelector("[data-inline-edit='" + name + "']");
        if (again) { again.focus(); }
      } else if (result.status === 200 && result.body.ok) {
        originals.delete(cell);
        alertBox("");
        replaceFragments(result.body.fragments);
        toast(result.body.message, "success");
        var button = document.querySelector("[data-fragment=details] [data-inline-edit='" + name + "']");
        if (button) { button.focus(); }
      } else if (result.body.html) {
        showForm(cell, result.body.html);  // the errors, next to the field they name
      } else {
        toast(result.body.message || "Error " + result.status, "danger");
      }
    }, networkError);
  });

  // ---- The timeline's kinds and pages ----------------------------------------------------------
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-timeline-nav]");
    if (!link) { return; }
    event.preventDefault();
    send(link.getAttribute("data-timeline-nav")).then(function (response) {
      if (!response.ok) { throw new Error(response.statusText); }
      return response.text();
    }).then(function (html) {
      replaceFragments({ timeline: html });
      var current = document.querySelector("[data-fragment=timeline] [aria-current=true]");
      if (current) { current.focus(); }
    }, networkError);
  });
})();
