/* 考核 page: the trend of every department's score; a row opens its breakdown. */
(function () {
  "use strict";
  var trend = JSON.parse(document.getElementById("assessment-trend").textContent);
  var L = JSON.parse(document.getElementById("assessment-labels").textContent);

  document.querySelectorAll("#ranking > tbody > tr[data-department]").forEach(function (row) {
    row.addEventListener("click", function () {
      var detail = document.querySelector('tr.breakdown[data-for="' + row.dataset.department + '"]');
      if (detail) { detail.classList.toggle("open"); }
    });
  });

  var element = document.getElementById("trend");
  var chart = echarts.init(element, "dark");
  chart.setOption({
    animation: false,
    backgroundColor: "transparent",
    grid: { left: 40, right: 180, top: 20, bottom: 30 },
    tooltip: { trigger: "axis" },
    legend: { type: "scroll", orient: "vertical", right: 0, top: 10, textStyle: { color: "#c8d6e5" } },
    xAxis: { type: "category", data: trend.periods },
    yAxis: { type: "value", min: 0, max: 100, name: L.score },
    series: trend.series.map(function (s) {
      return { name: s.name, type: "line", connectNulls: false, showSymbol: true, data: s.scores };
    })
  });
  document.body.dataset.loaded = "true";
})();
