// The kanban board: drag and drop with SortableJS, and the "Move to…" menu, both posting to the
// board's move endpoint (which calls the one stage-change service). A refused move puts the card
// back where it was and says why. No inline scripts: everything the script needs is in data-*.
(function () {
  "use strict";

  var board = document.querySelector("[data-board]");
  if (!board) { return; }
  var filters = board.getAttribute("data-filters") || "";
  var busy = false;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function toast(message, kind) {
    var container = document.querySelector("[data-toasts]");
    var el = document.createElement("div");
    el.className = "toast align-items-center border-0 text-bg-" + (kind || "success");
    el.setAttribute("role", kind === "danger" ? "alert" : "status");
    el.setAttribute("data-testid", "board-toast");
    var body = document.createElement("div");
    body.className = "d-flex";
    var text = document.createElement("div");
    text.className = "toast-body";
    text.textContent = message;  // textContent: messages may quote deal names
    body.appendChild(text);
    el.appendChild(body);
    container.appendChild(el);
    var instance = window.bootstrap.Toast.getOrCreateInstance(el, { delay: kind === "danger" ? 9000 : 3000 });
    el.addEventListener("hidden.bs.toast", function () { el.remove(); });
    instance.show();
  }

  function fromHTML(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  function cardsOf(container) {
    return Array.prototype.filter.call(container.children, function (el) {
      return el.classList.contains("board-card");
    });
  }

  function updateHeaders(headers) {
    Object.keys(headers).forEach(function (stageId) {
      var header = board.querySelector("[data-column-header][data-stage-id='" + stageId + "']");
      if (header) { header.replaceWith(fromHTML(headers[stageId].html)); }
    });
  }

  function putBack(card, from, oldIndex) {
    var siblings = cardsOf(from).filter(function (el) { return el !== card; });
    from.insertBefore(card, siblings[oldIndex] || null);
  }

  // Ask for a lost reason in the modal; resolves with the form data, or null when cancelled.
  function askLostReason() {
    return new Promise(function (resolve) {
      var modalEl = document.getElementById("lost-modal");
      var form = modalEl.querySelector("[data-lost-form]");
      var modal = window.bootstrap.Modal.getOrCreateInstance(modalEl);
      var answered = false;
      form.reset();
      function onSubmit(event) {
        event.preventDefault();
        if (!form.reportValidity()) { return; }
        answered = true;
        resolve({ lost_reason: form.lost_reason.value, lost_note: form.lost_note.value });
        modal.hide();
      }
      function onHidden() {
        form.removeEventListener("submit", onSubmit);
        modalEl.removeEventListener("hidden.bs.modal", onHidden);
        if (!answered) { resolve(null); }
      }
      form.addEventListener("submit", onSubmit);
      modalEl.addEventListener("hidden.bs.modal", onHidden);
      modalEl.addEventListener("shown.bs.modal", function () { form.lost_reason.focus(); }, { once: true });
      modal.show();
    });
  }

  function confirmWon(card) {
    return new Promise(function (resolve) {
      var modalEl = document.getElementById("won-modal");
      var form = modalEl.querySelector("[data-won-form]");
      var modal = window.bootstrap.Modal.getOrCreateInstance(modalEl);
      var answered = false;
      modalEl.querySelector("[data-won-name]").textContent = card.getAttribute("data-name");
      function onSubmit(event) {
        event.preventDefault();
        answered = true;
        resolve(true);
        modal.hide();
      }
      function onHidden() {
        form.removeEventListener("submit", onSubmit);
        modalEl.removeEventListener("hidden.bs.modal", onHidden);
        if (!answered) { resolve(false); }
      }
      form.addEventListener("submit", onSubmit);
      modalEl.addEventListener("hidden.bs.modal", onHidden);
      modal.show();
    });
  }

  function postMove(card, data) {
    var body = new FormData();
    Object.keys(data).forEach(function (key) {
      if (data[key] !== undefined && data[key] !== null && data[key] !== "") { body.append(key, data[key]); }
    });
    body.append("version", card.getAttribute("data-version"));
    body.append("filters", filters);
    var url = card.querySelector(".board-move-form").getAttribute("action");
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (json) { return { status: response.status, body: json }; },
        function () { return { status: response.status, body: { message: response.statusText } }; });
    });
  }

  // Move ``card`` (already placed in its new column by the drag, or not yet for the menu) and
  // either keep it there with the server's fresh copy, or put it back.
  function move(card, stageColumn, data, undo) {
    var kind = stageColumn.getAttribute("data-stage-kind");
    var ask = Promise.resolve({});
    if (kind === "lost" && !data.lost_reason && undo.changedColumn) {
      ask = askLostReason();
    } else if (kind === "won" && undo.changedColumn) {
      ask = confirmWon(card).then(function (ok) { return ok ? {} : null; });
    }
    return ask.then(function (extra) {
      if (extra === null) { undo.revert(); return; }
      Object.keys(extra).forEach(function (key) { data[key] = extra[key]; });
      data.stage = stageColumn.getAttribute("data-stage-id");
      card.classList.add("is-saving");
      busy = true;
      return postMove(card, data).then(function (result) {
        busy = false;
        card.classList.remove("is-saving");
        if (result.status === 200 && result.body.ok) {
          var fresh = fromHTML(result.body.card);
          undo.place();
          card.replaceWith(fresh);
          if (undo.focus) {
            var toggle = fresh.querySelector("[data-bs-toggle=dropdown]");
            if (toggle) { toggle.focus(); }
          }
          updateHeaders(result.body.headers);
          toast(result.body.message, "success");
        } else {
          undo.revert();
          toast(result.body.message || "Error " + result.status, "danger");
        }
      }, function () {
        busy = false;
        card.classList.remove("is-saving");
        undo.revert();
        toast(board.getAttribute("data-network-error") || "Network error: the move was not saved.", "danger");
      });
    });
  }

  // Drag and drop.
  board.querySelectorAll(".board-cards").forEach(function (container) {
    window.Sortable.create(container, {
      group: "board",
      animation: 150,
      draggable: ".board-card",
      // On a touch screen a swipe scrolls the board; a card is picked up after a short press.
      delay: 250,
      delayOnTouchOnly: true,
      touchStartThreshold: 5,
      filter: ".board-move-menu, .dropdown-menu, .board-card-locked",
      preventOnFilter: false,
      onEnd: function (evt) {
        var card = evt.item;
        if (evt.from === evt.to && evt.oldIndex === evt.newIndex) { return; }
        var previous = card.previousElementSibling;
        var next = card.nextElementSibling;
        var data = {
          above: previous && previous.classList.contains("board-card") ? previous.getAttribute("data-opportunity-id") : "",
          below: next && next.classList.contains("board-card") ? next.getAttribute("data-opportunity-id") : ""
        };
        var undo = {
          changedColumn: evt.from !== evt.to,
          revert: function () { putBack(card, evt.from, evt.oldIndex); },
          place: function () {}
        };
        move(card, evt.to.closest(".board-column"), data, undo);
      }
    });
  });

  // "Show more" asks for the cards after the ones the column shows now: a card dragged in or out since
  // the page was drawn changes that number, and a fixed offset would skip or repeat cards.
  document.body.addEventListener("htmx:configRequest", function (event) {
    var more = event.detail.elt.closest && event.detail.elt.closest(".board-more");
    if (!more || !board.contains(more)) { return; }
    var container = more.closest(".board-column").querySelector(".board-cards");
    event.detail.parameters.offset = cardsOf(container).length;
  });
  // A card shown twice (moved by someone else between two pages) keeps its first copy.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var container = event.detail.target;
    if (!container.classList || !container.classList.contains("board-cards")) { return; }
    var seen = {};
    cardsOf(container).forEach(function (el) {
      var id = el.getAttribute("data-opportunity-id");
      if (seen[id]) { el.remove(); } else { seen[id] = true; }
    });
  });

  // The Won and Lost columns start collapsed (they only grow); its cards can be shown, and it takes drops
  // either way.
  board.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-collapse-column]");
    if (!toggle) { return; }
    var column = toggle.closest(".board-column");
    var collapsed = column.classList.toggle("is-collapsed");
    toggle.setAttribute("aria-expanded", collapsed ? "false" : "true");
    toggle.querySelector("[data-when-collapsed]").classList.toggle("d-none", !collapsed);
    toggle.querySelector("[data-when-expanded]").classList.toggle("d-none", collapsed);
  });

  // The "Move to…" menu (keyboard and touch): the same endpoint, the card goes on top of its column.
  board.addEventListener("submit", function (event) {
    var form = event.target.closest(".board-move-form");
    if (!form) { return; }
    event.preventDefault();
    if (busy) { return; }
    var card = form.closest(".board-card");
    var stageId = form.stage.value;
    var column = board.querySelector(".board-column[data-stage-id='" + stageId + "']");
    var from = card.parentElement;
    var oldIndex = cardsOf(from).indexOf(card);
    var toggle = form.closest(".dropdown").querySelector("[data-bs-toggle=dropdown]");
    window.bootstrap.Dropdown.getOrCreateInstance(toggle).hide();
    var data = { lost_reason: form.lost_reason ? form.lost_reason.value : "" };
    var target = column.querySelector(".board-cards");
    var first = cardsOf(target)[0];
    if (first && first !== card) { data.below = first.getAttribute("data-opportunity-id"); }
    var undo = {
      changedColumn: column !== card.closest(".board-column"),
      revert: function () { putBack(card, from, oldIndex); },
      place: function () { target.insertBefore(card, cardsOf(target)[0] || null); },
      focus: true
    };
    move(card, column, data, undo);
  });
})();
