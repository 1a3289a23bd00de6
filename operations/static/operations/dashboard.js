/* Operations dashboard: draws the map and panels from the ops API and refreshes itself. */
(function () {
  "use strict";
  var L = JSON.parse(document.getElementById("labels").textContent);
  var DISTRICTS = JSON.parse(document.getElementById("districts").textContent);
  var COLORS = { 0: "#1e3a5f", 1: "#3b82f6", 2: "#facc15", 3: "#fb923c", 4: "#ef4444" };
  var charts = {};
  var selectedPoint = null;
  var generated = "";

  function chart(id) {
    if (!charts[id]) {
      charts[id] = echarts.init(document.getElementById(id), "dark");
      // Redrawn every refresh: animating each redraw would only distract.
      charts[id].setOption({ animation: false });
    }
    return charts[id];
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(url + " " + r.status); } return r.json(); });
  }
  function esc(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }
  // Times arrive in the server's zone (Asia/Shanghai, "+08:00"): shown as sent, never
  // converted to the viewer's clock.
  function time(iso) { return iso ? String(iso).slice(0, 16).replace("T", " ") : ""; }
  function orderLink(id, text) {
    return '<a href="' + OPS.orderPage.replace("0", String(id)) + '">' + esc(text) + "</a>";
  }
  function badge(level) {
    return '<span class="badge l' + level + '">' + esc(L.levels[level]) + "</span>";
  }

  function drawMap(summary) {
    // Alerts whose district the viewer may not read: counted, not placed on the map.
    var undisclosed = document.getElementById("undisclosed");
    undisclosed.hidden = !summary.undisclosed_district;
    undisclosed.textContent = L.undisclosed + L.colon + (summary.undisclosed_district || 0);
    var data = Object.keys(DISTRICTS).map(function (code) {
      var level = summary.districts[code] || 0;
      return { name: DISTRICTS[code], value: level, itemStyle: { areaColor: COLORS[level] } };
    });
    chart("map").setOption({
      backgroundColor: "transparent",
      tooltip: { formatter: function (p) { return p.name + L.colon + (p.value ? L.levels[p.value] : L.none); } },
      series: [{
        type: "map", map: "shanghai", roam: true, data: data,
        label: { show: true, color: "#e5edf5", fontSize: 11 },
        labelLayout: { hideOverlap: true },
        itemStyle: { borderColor: "#9fd0ff", borderWidth: 0.8 },
        emphasis: { label: { color: "#fff" }, itemStyle: { areaColor: "#2563eb" } }
      }]
    });
  }

  function drawLevels(summary) {
    document.getElementById("levels").innerHTML = ["4", "3", "2", "1"].map(function (level) {
      return '<div class="l' + level + '"><b>' + summary.by_level[level] + "</b>" + esc(L.levels[level]) + "</div>";
    }).join("");
    var domains = Object.keys(summary.by_domain);
    chart("domains").setOption({
      backgroundColor: "transparent", grid: { left: 90, right: 20, top: 10, bottom: 20 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: domains.map(function (d) { return L.domains[d] || d; }) },
      series: [{ type: "bar", data: domains.map(function (d) { return summary.by_domain[d]; }), itemStyle: { color: "#38bdf8" } }]
    });
    var t = summary.work_orders;
    document.getElementById("timeliness").innerHTML = Object.keys(L.timeliness).map(function (k) {
      return '<div class="' + k + '"><b>' + (t[k] || 0) + "</b>" + esc(L.timeliness[k]) + "</div>";
    }).join("");
    var fresh = summary.freshness;
    chart("freshness").setOption({
      backgroundColor: "transparent", legend: { top: 0 }, grid: { left: 80, right: 20, top: 30, bottom: 20 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: fresh.map(function (f) { return f.department; }) },
      series: ["fresh", "stale", "never"].map(function (k) {
        return { name: L.freshness[k], type: "bar", stack: "all", data: fresh.map(function (f) { return f[k]; }),
          itemStyle: { color: { fresh: "#4ade80", stale: "#ef4444", never: "#64748b" }[k] } };
      })
    });
  }

  function drawAlerts(page) {
    var rows = page.results;
    var body = document.querySelector("#alerts tbody");
    if (!rows.length) { body.innerHTML = '<tr><td colspan="8">' + esc(L.noAlerts) + "</td></tr>"; return; }
    body.innerHTML = rows.map(function (a) {
      var order = a.work_order ? orderLink(a.work_order.id, a.work_order.code) + " " + esc(L.orderStates[a.work_order.state]) : "";
      return '<tr class="alert-row" data-point="' + (a.point || "") + '" data-name="' + esc(a.point_name) +
        '" data-metric="' + esc(a.metric) + '">' +
        "<td>" + badge(a.level) + "</td><td>" + esc(a.hazard_display || a.hazard) + "</td><td>" + esc(a.domain_display) +
        "</td><td>" + esc(DISTRICTS[a.district_code] || a.district_code) + "</td><td>" + esc(a.point_name || DISTRICTS[a.district_code] || a.scope) +
        "</td><td>" + (a.value == null ? "" : esc(Math.round(a.value * 1000) / 1000)) + "</td><td>" + time(a.opened_at) +
        "</td><td>" + order + "</td></tr>";
    }).join("");
    if (selectedPoint === null) {
      var first = rows.filter(function (a) { return a.point; })[0];
      if (first) { return selectPoint(first.point, first.point_name, first.metric); }
    }
  }

  function drawOrders(page) {
    var body = document.querySelector("#orders tbody");
    if (!page.results.length) { body.innerHTML = '<tr><td colspan="6">' + esc(L.noOrders) + "</td></tr>"; return; }
    body.innerHTML = page.results.map(function (o) {
      return "<tr><td>" + orderLink(o.id, o.code) + "</td><td>" + badge(o.level) + " " + esc(o.hazard_display || o.hazard) + "</td><td>" +
        esc(o.department_name) + "</td><td>" + esc(L.orderStates[o.state]) + "</td><td>" + time(o.resolve_by) +
        '</td><td class="' + o.timeliness + '">' + esc(L.timeliness[o.timeliness]) + "</td></tr>";
    }).join("");
  }

  // ECharts formats a time axis in the browser's zone unless useUTC: each value is the
  // server's wall clock (its ISO offset added, +08:00) read as UTC, so the axis and the
  // tooltip show Asia/Shanghai whatever the viewer's PC clock.
  function wallClock(iso) {
    var s = String(iso), m = /([+-])(\d\d):?(\d\d)$/.exec(s);
    var minutes = m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
    return Date.parse(s) + minutes * 60000;
  }

  function selectPoint(id, name, metric) {
    selectedPoint = id;
    document.getElementById("series-title").textContent = name || "";
    var query = "/readings/?limit=300" + (metric ? "&metric=" + encodeURIComponent(metric) : "");
    return getJSON(OPS.points + id + query).then(function (rows) {
      var metrics = {};
      rows.forEach(function (r) {
        if (r.observed_at == null) return; // a time the caller may not read: no point on a time axis
        var name = r.label + (r.unit ? " (" + r.unit + ")" : "");
        (metrics[name] = metrics[name] || []).push([wallClock(r.observed_at), r.value]);
      });
      chart("series").setOption({
        backgroundColor: "transparent", useUTC: true, tooltip: { trigger: "axis" }, legend: { top: 0 },
        grid: { left: 50, right: 20, top: 30, bottom: 30 },
        xAxis: { type: "time" }, yAxis: { type: "value", scale: true },
        series: Object.keys(metrics).map(function (m) {
          return { name: m, type: "line", showSymbol: false, data: metrics[m] };
        }),
        animation: false
      }, true);
      document.getElementById("series").dataset.point = id;
    });
  }

  document.querySelector("#alerts tbody").addEventListener("click", function (event) {
    var row = event.target.closest("tr.alert-row");
    if (row && row.dataset.point) { selectPoint(row.dataset.point, row.dataset.name, row.dataset.metric); }
  });

  function refresh() {
    // One request at a time: each read may append an audit event (ops centre reads).
    return getJSON(OPS.summary).then(function (s) { drawMap(s); drawLevels(s); generated = s.generated_at; })
      .then(function () { return getJSON(OPS.alerts + "?state=open&limit=50"); }).then(drawAlerts)
      .then(function () { return getJSON(OPS.orders + "?limit=20"); }).then(drawOrders)
      .then(function () {
      document.getElementById("updated").textContent = L.updated + " " + String(generated).slice(11, 19);
      document.body.dataset.loaded = "true";
    }).catch(function (err) { console.error(err); });
  }

  var mapElement = document.getElementById("map");
  getJSON(mapElement.dataset.geojson).then(function (geo) {
    echarts.registerMap("shanghai", geo);
    return refresh();
  }).catch(function () {
    mapElement.innerHTML = '<p class="error">' + esc(L.mapError) + "</p>";
  });
  setInterval(refresh, OPS.refresh * 1000);
  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
}());
