// The bell in the navigation bar: asks for the unread count when the page loads, then every 30 s
// while the tab is visible, so a mention lights it without reloading the page.
(function () {
  const bell = document.querySelector("[data-notification-bell]");
  if (!bell) return;
  const badge = bell.querySelector("[data-unread-count]");
  function refresh() {
    if (document.hidden) return;
    fetch(bell.dataset.unreadUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        badge.textContent = data.unread > 99 ? "99+" : String(data.unread);
        badge.classList.toggle("d-none", data.unread === 0);
      })
      .catch(function () {});
  }
  refresh();
  setInterval(refresh, parseInt(bell.dataset.interval || "30000", 10));
  document.addEventListener("visibilitychange", refresh);
})();
