// The dashboards' charts (issue 12): every canvas[data-chart] is drawn with Chart.js
// from the JSON of the <script type="application/json"> it names. No inline script,
// no eval: the content security policy allows only this file and the vendored library.
(function () {
  "use strict";
  // Okabe-Ito: told apart with every common colour-vision deficiency.
  var PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || typeof window.Chart === "undefined") return;
    var chart = JSON.parse(source.textContent);
    var stacked = chart.type === "stacked-bar";
    var line = chart.type === "line";
    var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var percent = chart.unit === "%";
    new window.Chart(canvas, {
      type: line ? "line" : "bar",
      data: {
        labels: chart.labels,
        datasets: chart.series.map(function (s, i) {
          var colour = PALETTE[i % PALETTE.length];
          return {
            label: s.label,
            data: s.values,
            backgroundColor: colour,
            borderColor: colour,
            spanGaps: false,
            tension: 0,
          };
        }),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: still ? false : { duration: 300 },
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12 } },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var v = ctx.parsed.y;
                return ctx.dataset.label + ": " + (v === null ? "not recorded" : v + (percent ? "%" : " " + chart.unit));
              },
            },
          },
        },
        scales: {
          x: { stacked: stacked },
          y: {
            stacked: stacked,
            beginAtZero: true,
            max: percent ? 100 : undefined,
            title: { display: !!chart.unit, text: chart.unit },
          },
        },
      },
    });
  }

  function drawAll() {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
