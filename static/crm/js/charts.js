// The dashboards' script. Charts (Chart.js from static/vendor): each <canvas data-chart-source="ID"> is drawn
// from the JSON in <script type="application/json" id="ID"> that the view rendered beside it (no inline JS: the
// CSP forbids it).
// The JSON: {type, labels, datasets: [{label, data, color?, colors?}], links: [url|null per label], options}.
// Clicking a bar, point or slice opens the lead list behind it. Charts are redrawn after htmx swaps.
(function () {
  "use strict";

  var PALETTE = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#dc3545", "#0dcaf0", "#ffc107",
                 "#6610f2", "#d63384", "#6c757d", "#adb5bd"];

  function readSpec(canvas) {
    var source = document.getElementById(canvas.dataset.chartSource);
    if (!source) return null;
    try { return JSON.parse(source.textContent); } catch (e) { return null; }
  }

  function dataset(spec, d, index) {
    var type = spec.type;
    var colours = d.colors || (type === "doughnut" || type === "pie" ? PALETTE.slice(0, d.data.length) : null);
    var single = d.color || PALETTE[index % PALETTE.length];
    var out = { label: d.label, data: d.data };
    if (type === "line") {
      out.borderColor = single;
      out.backgroundColor = single + "33";
      out.tension = 0.25;
      out.pointRadius = 2;
      out.fill = index === 0;
    } else {
      out.backgroundColor = colours || single;
      out.borderWidth = type === "doughnut" ? 1 : 0;
    }
    return out;
  }

  function draw(canvas) {
    if (!window.Chart) return;
    var old = window.Chart.getChart(canvas);
    if (old) old.destroy();
    var spec = readSpec(canvas);
    if (!spec) return;
    var options = spec.options || {};
    var horizontal = !!options.horizontal;
    var links = spec.links || [];
    var chart = new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: spec.datasets.map(function (d, i) { return dataset(spec, d, i); }) },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : { duration: 300 },
        indexAxis: horizontal ? "y" : "x",
        plugins: {
          legend: { display: spec.type === "doughnut" || spec.datasets.length > 1, position: "bottom",
                    labels: { boxWidth: 12 } },
        },
        scales: spec.type === "doughnut" ? {} : {
          x: { ticks: { autoSkip: true, maxRotation: horizontal ? 0 : 60 }, beginAtZero: true },
          y: { beginAtZero: true, ticks: { precision: 0 } },
        },
        onHover: function (event, elements) {
          var target = event.native && event.native.target;
          if (target) target.style.cursor = elements.length && links[elements[0].index] ? "pointer" : "default";
        },
        onClick: function (event, elements) {
          if (!elements.length) return;
          var url = links[elements[0].index];
          if (url) window.location.assign(url);
        },
      },
    });
    canvas.dataset.chartReady = String(chart.data.labels.length);
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart-source]").forEach(draw);
  }

  function destroyIn(root) {
    if (!window.Chart || !root.querySelectorAll) return;
    var canvases = Array.prototype.slice.call(root.querySelectorAll("canvas[data-chart-source]"));
    if (root.matches && root.matches("canvas[data-chart-source]")) canvases.push(root);
    canvases.forEach(function (canvas) {
      var chart = window.Chart.getChart(canvas);
      if (chart) chart.destroy();
    });
  }

  // The counsellor's work list: once an outcome is recorded in place (the leads' one-step form answers 200),
  // the list reloads and the next follow-up comes up. A conflict (409) or a form error (422) stays put.
  // (beforeSwap: the form is still in the page; once swapped out, its events no longer reach the document.)
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.elt;
    if (!elt || !elt.matches || !elt.matches("#work-list form.outcome-form")) return;
    if (event.detail.xhr.status !== 200) return;
    if (window.crmToast) window.crmToast("Outcome recorded. Here is the next one.", "success");
    document.body.dispatchEvent(new CustomEvent("crm:outcome-recorded"));
  });

  // htmx (loaded with defer) announces the first page and every swapped fragment with htmx:load.
  document.addEventListener("htmx:load", function (event) { drawAll(event.detail.elt); });
  document.addEventListener("htmx:beforeCleanupElement", function (event) { destroyIn(event.target); });
  document.addEventListener("DOMContentLoaded", function () { if (!window.htmx) drawAll(document); });
})();
