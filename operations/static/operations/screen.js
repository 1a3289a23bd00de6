/* The 大屏: map with point markers and drill-down, legend, ticker, server clock; polls
   the screen's JSON endpoint (operations:screen-data) and redraws without a reload. */
(function () {
  "use strict";
  var L = JSON.parse(document.getElementById("labels").textContent);
  var DISTRICTS = JSON.parse(document.getElementById("districts").textContent);
  var CLOCK = JSON.parse(document.getElementById("clock-data").textContent);
  var COLORS = { 0: "#1e3a5f", 1: "#3b82f6", 2: "#facc15", 3: "#fb923c", 4: "#ef4444" };
  var NAMES = {};
  Object.keys(DISTRICTS).forEach(function (code) { NAMES[DISTRICTS[code]] = code; });
  var charts = {};
  var geo = null;
  var current = { map: "shanghai", district: "" };
  var last = null;
  // The clock shows the server's time in the server's zone, whatever the viewer's PC says.
  var skew = CLOCK.epoch_ms - Date.now();
  var offset = CLOCK.offset_minutes;

  function esc(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var d = new Date(Date.now() + skew + offset * 60000);
    document.getElementById("clock").textContent = d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" +
      pad(d.getUTCDate()) + " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
  }
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

  function drawMap(data) {
    var summary = data.summary;
    // Alerts whose district the viewer may not read: counted, not placed on the map.
    var undisclosed = document.getElementById("undisclosed");
    undisclosed.hidden = !summary.undisclosed_district;
    undisclosed.textContent = L.undisclosed + L.colon + (summary.undisclosed_district || 0);
    var codes = current.district ? [current.district] : Object.keys(DISTRICTS);
    var regions = codes.map(function (code) {
      var level = summary.districts[code] || 0;
      return { name: DISTRICTS[code], value: level, itemStyle: { areaColor: COLORS[level] } };
    });
    var points = data.points.filter(function (p) { return !current.district || p.district === current.district; })
      .sort(function (a, b) { return a.level - b.level; });  // the worst drawn last, on top
    document.getElementById("points-count").textContent = points.length;
    var layout = { layoutCenter: ["50%", "50%"], layoutSize: "95%" };
    chart("map").setOption({
      animation: false,  // notMerge below resets the chart's options: keep redraws still
      backgroundColor: "transparent",
      tooltip: {},
      geo: Object.assign({ map: current.map, silent: true, roam: false, z: 1,
        itemStyle: { areaColor: "transparent", borderWidth: 0 }, label: { show: false } }, layout),
      series: [
        Object.assign({
          type: "map", map: current.map, roam: false, data: regions, z: 2,
          label: { show: true, color: "#e5edf5", fontSize: 12 },
          labelLayout: { hideOverlap: true },
          itemStyle: { borderColor: "#9fd0ff", borderWidth: 0.8 },
          emphasis: { label: { color: "#fff" }, itemStyle: { areaColor: "#2563eb" } },
          tooltip: { formatter: function (p) { return p.name + L.colon + (p.value ? L.levels[p.value] : L.none); } }
        }, layout),
        {
          // City view: rippling markers; a district: plain markers with their names.
          type: current.district ? "scatter" : "effectScatter", coordinateSystem: "geo", z: 5, name: L.points,
          symbolSize: function (v) { return v[2] ? 8 + 2 * v[2] : 6; },
          rippleEffect: { scale: 3 }, showEffectOn: "render",
          data: points.map(function (p) {
            return { name: p.name, value: [p.lon, p.lat, p.level], department: p.department,
              itemStyle: { color: p.level ? COLORS[p.level] : "#a5f3fc", borderColor: "#fff", borderWidth: 1.5 } };
          }),
          label: { show: !!current.district, formatter: "{b}", position: "right", color: "#fff", fontSize: 11 },
          labelLayout: { hideOverlap: true },
          tooltip: { formatter: function (p) {
            return esc(p.name) + "<br>" + esc(p.data.department) + (p.value[2] ? "<br>" + esc(L.levels[p.value[2]]) : "");
          } }
        }
      ]
    }, true);
  }

  function drawPanels(data) {
    var summary = data.summary;
    document.getElementById("levels").innerHTML = ["4", "3", "2", "1"].map(function (level) {
      return '<div class="l' + level + '">' + esc(L.levels[level]) + "<b>" + summary.by_level[level] + "</b></div>";
    }).join("");
    var t = summary.work_orders;
    document.getElementById("timeliness").innerHTML = Object.keys(L.timeliness).map(function (k) {
      return '<div class="' + k + '">' + esc(L.timeliness[k]) + "<b>" + (t[k] || 0) + "</b></div>";
    }).join("");
    var domains = Object.keys(summary.by_domain);
    chart("domains").setOption({
      backgroundColor: "transparent", grid: { left: 80, right: 16, top: 8, bottom: 20 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: domains.map(function (d) { return L.domains[d] || d; }) },
      series: [{ type: "bar", data: domains.map(function (d) { return summary.by_domain[d]; }), itemStyle: { color: "#38bdf8" } }]
    });
    var alerts = data.alerts.filter(function (a) { return !current.district || a.district_code === current.district; });
    document.getElementById("alert-list").innerHTML = alerts.length ? alerts.slice(0, 14).map(function (a) {
      return '<li><span class="badge l' + a.level + '">' + esc(a.level_label) + "</span> " + esc(a.hazard) + " · " +
        esc(a.district) + " " + esc(a.point) + " <small>" + esc(a.opened_at) + "</small></li>";
    }).join("") : "<li>" + esc(L.noAlerts) + "</li>";
    document.getElementById("ticker").innerHTML = data.alerts.length ? data.alerts.map(function (a) {
      return '<span class="tick-item"><span class="badge l' + a.level + '">' + esc(a.level_label) + "</span> " +
        esc(a.opened_at) + " " + esc(a.district) + " " + esc(a.hazard) + " " + esc(a.point) + "</span>";
    }).join("") : "<span>" + esc(L.noAlerts) + "</span>";
  }

  function draw() {
    if (!last) { return; }
    drawMap(last);
    drawPanels(last);
  }

  function refresh() {
    return getJSON(OPS.data).then(function (data) {
      last = data;
      skew = data.clock.epoch_ms - Date.now();
      draw();
      document.body.dataset.loaded = "true";
      document.body.dataset.generated = data.generated_at;
    }).catch(function (err) { console.error(err); });
  }

  function drill(code) {
    if (code && !echarts.getMap("district-" + code)) {
      var feature = geo.features.filter(function (f) { return f.properties.name === DISTRICTS[code]; });
      echarts.registerMap("district-" + code, { type: "FeatureCollection", features: feature });
    }
    current = code ? { map: "district-" + code, district: code } : { map: "shanghai", district: "" };
    document.getElementById("map-title").textContent = code ? DISTRICTS[code] : L.city;
    document.getElementById("map-back").hidden = !code;
    document.body.dataset.district = code || "";
    draw();
  }

  tick();
  setInterval(tick, 1000);
  var mapElement = document.getElementById("map");
  getJSON(mapElement.dataset.geojson).then(function (json) {
    geo = json;
    echarts.registerMap("shanghai", json);
    chart("map").on("click", function (p) {
      if (p.seriesType === "map" && !current.district && NAMES[p.name]) { drill(NAMES[p.name]); }
    });
    return refresh();
  }).catch(function () {
    mapElement.innerHTML = '<p class="error">' + esc(L.mapError) + "</p>";
  });
  document.getElementById("map-back").addEventListener("click", function () { drill(""); });
  setInterval(refresh, OPS.refresh * 1000);
  window.OPS.drill = drill;
  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
}());
