/* Loa reports: the dashboard's charts, drawn by the vendored Chart.js from the page's JSON block
   (#report-charts; no inline script: the admin pages run under a strict CSP). One measure per chart, each on its
   own axis; channels in their kind's colour; hover or tap shows the value. */
(function () {
  "use strict";
  var source = document.getElementById("report-charts");
  if (!source || !window.Chart) { return; }
  var data = JSON.parse(source.textContent);
  var lang = document.documentElement.getAttribute("lang") || "vi";
  var number = new Intl.NumberFormat(lang === "vi" ? "vi-VN" : lang);
  var Chart = window.Chart;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;

  function ticks() {
    return {callback: function (value) { return number.format(value); }, precision: 0};
  }
  function tooltip(label) {
    return {callbacks: {label: function (item) { return " " + (label || item.label) + ": " + number.format(item.raw); }}};
  }

  document.querySelectorAll('canvas[data-chart="trend"]').forEach(function (canvas) {
    var measure = data.measures.filter(function (m) { return m.key === canvas.dataset.measure; })[0];
    if (!measure) { return; }
    var bars = data.bucket === "month" || data.labels.length <= 14;
    new Chart(canvas, {
      type: bars ? "bar" : "line",
      data: {labels: data.labels, datasets: [{
        label: measure.label, data: measure.values, backgroundColor: bars ? measure.colour : measure.colour + "22",
        borderColor: measure.colour, borderWidth: bars ? 0 : 2, fill: !bars, pointRadius: data.labels.length > 40 ? 0 : 2,
        pointHitRadius: 8, tension: 0.2}]},
      options: {
        interaction: {mode: "index", intersect: false},
        plugins: {legend: {display: false}, tooltip: tooltip(measure.label)},
        scales: {y: {beginAtZero: true, ticks: ticks()}, x: {ticks: {maxTicksLimit: 8, maxRotation: 0}}}
      }
    });
  });

  function barsChart(canvas, spec, colours) {
    var box = canvas.parentNode;
    box.style.height = Math.max(120, 34 * spec.names.length + 40) + "px";
    new Chart(canvas, {
      type: "bar",
      data: {labels: spec.names, datasets: [{label: spec.label, data: spec.values, backgroundColor: colours}]},
      options: {
        indexAxis: "y",
        interaction: {mode: "nearest", axis: "y", intersect: false},
        plugins: {legend: {display: false}, tooltip: tooltip(spec.label)},
        scales: {x: {beginAtZero: true, ticks: ticks()}}
      }
    });
  }
  var channels = document.querySelector('canvas[data-chart="channels"]');
  if (channels && data.channels) { barsChart(channels, data.channels, data.channels.colours); }
  var units = document.querySelector('canvas[data-chart="units"]');
  if (units && data.units) { barsChart(units, data.units, "#1f5fa8"); }
}());
