// Draws the category chart on the dashboard from the JSON the server embedded.
(function () {
  var el = document.getElementById("category-chart");
  var data = document.getElementById("category-chart-data");
  if (!el || !data || !window.echarts) return;
  var d = JSON.parse(data.textContent);
  var chart = window.echarts.init(el);
  chart.setOption({
    animation: false,
    tooltip: {},
    legend: {data: [el.dataset.unitsLabel || "单位", el.dataset.officialsLabel || "干部"]},
    grid: {left: 40, right: 40, bottom: 80},
    xAxis: {type: "category", data: d.labels, axisLabel: {rotate: 30}},
    yAxis: [{type: "value"}, {type: "value"}],
    series: [
      {name: el.dataset.unitsLabel || "单位", type: "bar", data: d.units},
      {name: el.dataset.officialsLabel || "干部", type: "bar", yAxisIndex: 1, data: d.officials}
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
