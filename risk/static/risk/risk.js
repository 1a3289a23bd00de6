/* Risk page: the district map coloured by index and the trend of the chosen district. */
(function () {
  "use strict";
  var L = JSON.parse(document.getElementById("risk-labels").textContent);
  var charts = {};

  function chart(id) {
    if (!charts[id]) {
      charts[id] = echarts.init(document.getElementById(id), "dark");
      charts[id].setOption({ animation: false });
    }
    return charts[id];
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(url + " " + r.status); } return r.json(); });
  }

  function drawMap(layer) {
    var data = layer.districts.map(function (d) {
      return { name: d.name, value: d.index, label_: d.class_label, itemStyle: { areaColor: d.color } };
    });
    chart("map").setOption({
      backgroundColor: "transparent",
      tooltip: { formatter: function (p) {
        var d = p.data || {};
        return p.name + L.colon + (p.value == null || isNaN(p.value) ? L.noData : p.value + " · " + d.label_);
      } },
      series: [{
        type: "map", map: "shanghai", roam: true, data: data,
        label: { show: true, color: "#e5edf5", fontSize: 11 },
        itemStyle: { borderColor: "#9fd0ff", borderWidth: 0.8, areaColor: "#64748b" }
      }]
    });
  }

  // ECharts formats a time axis in the browser's zone unless useUTC: each value is the
  // server's wall clock (Asia/Shanghai; the history API sends UTC, so the page's zone
  // offset RISK.utcOffset is added) read as UTC, whatever the viewer's PC clock.
  function wallClock(iso) {
    var m = /([+-])(\d\d):?(\d\d)$/.exec(window.RISK.utcOffset || "");
    var minutes = m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
    return Date.parse(String(iso)) + minutes * 60000;
  }

  function drawTrend(code, name) {
    var url = window.RISK.history.replace("000000", code) + "?hazard=" + window.RISK.hazard;
    getJSON(url).then(function (page) {
      document.getElementById("trend-title").textContent = name;
      document.body.dataset.trend = code;
      chart("trend").setOption({
        backgroundColor: "transparent", useUTC: true, grid: { left: 40, right: 20, top: 20, bottom: 30 },
        tooltip: { trigger: "axis" },
        xAxis: { type: "time" }, yAxis: { type: "value", min: 0, max: 10 },
        series: [{ name: L.risk, type: "line", showSymbol: true,
          data: page.results.map(function (r) { return [wallClock(r.computed_at), r.risk]; }) }]
      });
    });
  }

  document.querySelectorAll("#scores > tbody > tr[data-district]").forEach(function (row) {
    row.addEventListener("click", function () {
      var detail = document.querySelector('tr.breakdown[data-for="' + row.dataset.district + '"]');
      if (detail) { detail.classList.toggle("open"); }
      drawTrend(row.dataset.district, row.dataset.name);
    });
  });

  var mapElement = document.getElementById("map");
  getJSON(mapElement.dataset.geojson).then(function (geo) {
    echarts.registerMap("shanghai", geo);
    return getJSON(window.RISK.map);
  }).then(function (layer) {
    drawMap(layer);
    document.body.dataset.loaded = "true";
  }).catch(function () {
    mapElement.innerHTML = '<p class="error">' + L.mapError + "</p>";
    document.body.dataset.loaded = "error";
  });
  var first = document.querySelector("#scores > tbody > tr[data-district]");
  if (first) { drawTrend(first.dataset.district, first.dataset.name); }
})();
