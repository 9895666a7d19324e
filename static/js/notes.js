// The @mention autocomplete of the notes feed: typing "@ma" asks the server which colleagues who may
// see the record match, and a click (or Enter) puts "@username " in the text.
(function () {
  if (window.crmNotesReady) return;
  window.crmNotesReady = true;

  function wordBeforeCaret(textarea) {
    const before = textarea.value.slice(0, textarea.selectionStart);
    const match = /(^|\s)@([\w.+-]*)$/.exec(before);
    return match ? { text: match[2], start: before.length - match[2].length - 1 } : null;
  }

  function setup(form) {
    const textarea = form.querySelector("[data-mention-input]");
    const menu = form.querySelector("[data-mention-menu]");
    if (!textarea || !menu) return;
    let timer = null;
    let active = -1;

    function close() { menu.classList.add("d-none"); menu.innerHTML = ""; active = -1; }

    function choose(username) {
      const word = wordBeforeCaret(textarea);
      if (!word) return close();
      const end = textarea.selectionStart;
      textarea.value = textarea.value.slice(0, word.start) + "@" + username + " " + textarea.value.slice(end);
      const caret = word.start + username.length + 2;
      textarea.setSelectionRange(caret, caret);
      textarea.focus();
      close();
    }

    function show(results) {
      menu.innerHTML = "";
      results.forEach(function (user, index) {
        const item = document.createElement("li");
        item.className = "list-group-item list-group-item-action py-1 small";
        item.setAttribute("role", "option");
        item.dataset.username = user.username;
        item.textContent = user.label + " (@" + user.username + ")";
        item.addEventListener("mousedown", function (event) { event.preventDefault(); choose(user.username); });
        menu.appendChild(item);
        if (index === 0) { item.classList.add("active"); active = 0; }
      });
      menu.classList.toggle("d-none", results.length === 0);
    }

    textarea.addEventListener("input", function () {
      const word = wordBeforeCaret(textarea);
      clearTimeout(timer);
      if (!word) return close();
      timer = setTimeout(function () {
        fetch(form.dataset.mentionUrl + "?q=" + encodeURIComponent(word.text), { headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : { results: [] }; })
          .then(function (data) { show(data.results || []); })
          .catch(close);
      }, 150);
    });
    textarea.addEventListener("keydown", function (event) {
      const items = menu.querySelectorAll("li");
      if (menu.classList.contains("d-none") || !items.length) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        items[active] && items[active].classList.remove("active");
        active = (active + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
        items[active].classList.add("active");
      } else if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        choose(items[Math.max(active, 0)].dataset.username);
      } else if (event.key === "Escape") {
        close();
      }
    });
    textarea.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  function init() { document.querySelectorAll(".notes-form").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
