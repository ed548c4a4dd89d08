// Draws every <div class="chart" data-figure="..."> with the Plotly bundle served from
// /static/vendor/plotly.min.js, then marks it data-drawn="1" (browser tests wait for that).
(function () {
  "use strict";
  function draw(el) {
    if (el.dataset.drawn === "1" || !window.Plotly) return;
    var fig = JSON.parse(el.dataset.figure);
    var config = { responsive: true, displaylogo: false,
                   modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"] };
    window.Plotly.newPlot(el, fig.data, fig.layout, config).then(function () {
      el.dataset.drawn = "1";
    });
  }
  function drawAll(root) {
    (root || document).querySelectorAll(".chart[data-figure]").forEach(draw);
  }
  window.marketopsCharts = { drawAll: drawAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(); });
  } else {
    drawAll();
  }
})();
