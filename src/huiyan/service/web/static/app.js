// huiyan dashboard: draw every .chart from its data-option (an ECharts option built on the
// server); a click on a bar or point whose name has an entry in option.links opens that page.
(function () {
  function draw(root) {
    if (!window.echarts) return;
    root.querySelectorAll(".chart").forEach(function (el) {
      if (el.dataset.drawn) return;
      var option = JSON.parse(el.dataset.option);
      var links = option.links || {};
      delete option.links;
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option);
      chart.on("click", function (p) {
        if (links[p.name]) window.location.href = links[p.name];
      });
      el.dataset.drawn = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
    document.body.dataset.chartsReady = "1";
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:after:swap", function (e) { draw(document); });
  document.addEventListener("htmx:afterSwap", function (e) { draw(document); });
})();
