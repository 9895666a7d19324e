// Report charts: Chart.js drawing the figures the server put in <script type="application/json"
// id="report-data"> (json_script). No inline scripts: the Content-Security-Policy forbids them.
(function () {
  "use strict";

  var WON = "#198754", LOST = "#dc3545", OPEN = "#0d6efd", MUTED = "#adb5bd";

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-report-print]")) {
      window.print();
    }
  });

  var source = document.getElementById("report-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var money = function (currency) {
    var format = new Intl.NumberFormat(document.documentElement.lang || undefined, {
      style: "currency", currency: currency || "EUR", maximumFractionDigits: 0
    });
    return function (value) { return format.format(value); };
  };

  var builders = {
    "won-lost-amounts": function () {
      return { type: "bar", data: { labels: data.labels, datasets: [
        { label: gettext("won"), data: data.won_amount, backgroundColor: WON },
        { label: gettext("lost"), data: data.lost_amount, backgroundColor: LOST }
      ] }, options: { scales: { y: { ticks: { callback: money(data.currency) } } } } };
    },
    "won-lost-rate": function () {
      return { type: "bar", data: { labels: data.labels, datasets: [
        { label: gettext("win_rate"), data: data.win_rate, backgroundColor: OPEN }
      ] }, options: { indexAxis: "y", scales: { x: { min: 0, max: 100 } } } };
    },
    "funnel-reached": function () {
      return { type: "bar", data: { labels: data.labels, datasets: [
        { label: gettext("reached"), data: data.reached, backgroundColor: OPEN }
      ] }, options: { indexAxis: "y" } };
    },
    "funnel-time": function () {
      return { type: "bar", data: { labels: data.labels, datasets: [
        { label: gettext("median_days"), data: data.median_days, backgroundColor: MUTED }
      ] } };
    },
    "forecast-months": function () {
      return { type: "bar", data: { labels: data.labels, datasets: [
        { label: gettext("amount"), data: data.unweighted, backgroundColor: MUTED },
        { label: gettext("weighted"), data: data.weighted, backgroundColor: OPEN }
      ] }, options: { scales: { y: { ticks: { callback: money(data.currency) } } } } };
    },
    "forecast-versus": function () {
      return { type: "line", data: { labels: data.versus.labels, datasets: [
        { label: gettext("forecast"), data: data.versus.forecast, borderColor: OPEN },
        { label: gettext("won"), data: data.versus.actual, borderColor: WON }
      ] }, options: { scales: { y: { ticks: { callback: money(data.currency) } } } } };
    },
    "targets": function () {
      return { type: "bar", data: { labels: data.labels, datasets: [
        { label: gettext("percent"), data: data.percent, backgroundColor: WON },
        { label: gettext("forecast_percent"), data: data.forecast_percent, backgroundColor: MUTED }
      ] }, options: { indexAxis: "y", aspectRatio: Math.max(2, 8 - data.labels.length),
        scales: { x: { min: 0, suggestedMax: 100 } } } };
    },
    "stage-time": function () {
      return { type: "bar", data: { labels: data.labels, datasets: [
        { label: gettext("avg_days"), data: data.avg_days, backgroundColor: OPEN },
        { label: gettext("median_days"), data: data.median_days, backgroundColor: MUTED }
      ] } };
    },
    "velocity": function () {
      return { type: "bar", data: { labels: data.labels, datasets: [
        { label: gettext("current"), data: data.current, backgroundColor: OPEN },
        { label: gettext("previous"), data: data.previous, backgroundColor: MUTED }
      ] }, options: { scales: { y: { ticks: { callback: money(data.currency) } } } } };
    },
    "cohorts": function () {
      return { type: "line", data: { labels: data.labels, datasets: [
        { label: gettext("win_rate"), data: data.win_rate, borderColor: WON }
      ] }, options: { scales: { y: { min: 0, max: 100 } } } };
    },
    "accuracy": function () {
      return { type: "line", data: { labels: data.labels, datasets: [
        { label: gettext("forecast"), data: data.forecast, borderColor: OPEN },
        { label: gettext("actual"), data: data.actual, borderColor: WON }
      ] }, options: { scales: { y: { ticks: { callback: money(data.currency) } } } } };
    },
    "lost-reasons": function () {
      return { type: "bar", data: { labels: data.reason_labels, datasets: [
        { label: gettext("lost"), data: data.reason_counts, backgroundColor: LOST }
      ] }, options: { indexAxis: "y" } };
    },
    "lost-stages": function () {
      return { type: "bar", data: { labels: data.stage_labels, datasets: [
        { label: gettext("lost"), data: data.stage_counts, backgroundColor: LOST }
      ] }, options: { indexAxis: "y" } };
    }
  };

  // Dataset names come translated from the server, with the figures.
  function gettext(key) {
    return (data.names && data.names[key]) || key;
  }

  var charts = [];
  document.querySelectorAll("canvas[data-report-chart]").forEach(function (canvas) {
    var build = builders[canvas.getAttribute("data-report-chart")];
    if (!build) { return; }
    var config = build();
    config.options = Object.assign({ responsive: true, maintainAspectRatio: true, animation: false }, config.options || {});
    charts.push(new Chart(canvas, config));
  });
  // Printing: let the charts fit the paper width.
  window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
})();
