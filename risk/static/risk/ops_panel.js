/* Risk panel for the ops dashboard (risk/_ops_panel.html): the districts with the highest
   index, from /api/v1/risk/map/. No dependency; refreshes every five minutes. */
(function () {
  "use strict";
  var panel = document.getElementById("risk-panel");
  if (!panel) { return; }
  var list = panel.querySelector(".risk-top");
  var limit = parseInt(panel.dataset.limit || "5", 10);

  function esc(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }
  function draw(layer) {
    var rows = layer.districts.filter(function (d) { return d.index != null; })
      .sort(function (a, b) { return b.index - a.index; }).slice(0, limit);
    list.innerHTML = rows.map(function (d) {
      return '<li><span class="badge" style="background:' + esc(d.color) + '">' + esc(d.class_label) +
        "</span> " + esc(d.name) + " <b>" + esc(d.index) + "</b></li>";
    }).join("");
  }
  function refresh() {
    fetch(panel.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(draw)
      .catch(function () { list.innerHTML = ""; });
  }
  refresh();
  setInterval(refresh, 300000);
})();
