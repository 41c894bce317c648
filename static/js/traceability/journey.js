/* One lot's journey on a map: the places of its steps, in order, joined by a line.
 * Reads the points from the json_script named by the map's data-config. No tiles configured
 * (an offline install): a light grid, as the cold-chain screen draws. */
(function () {
  "use strict";
  var element = document.getElementById("journey-map");
  if (!element || !window.L) return;
  var configElement = document.getElementById(element.getAttribute("data-config"));
  var config = configElement ? JSON.parse(configElement.textContent) : { points: [] };
  var map = L.map(element, { center: [35.0, 110.0], zoom: 4 });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  if (config.tilesUrl) {
    L.tileLayer(config.tilesUrl, { maxZoom: 19, attribution: config.attribution || "" }).addTo(map);
  } else {
    var Grid = L.GridLayer.extend({
      createTile: function () {
        var tile = document.createElement("div");
        tile.className = "journey-grid-tile";
        return tile;
      },
    });
    new Grid().addTo(map);
  }
  L.control.scale({ imperial: false }).addTo(map);
  var line = [];
  config.points.forEach(function (point) {
    var at = [point.lat, point.lon];
    var last = line[line.length - 1];
    if (!last || last[0] !== at[0] || last[1] !== at[1]) line.push(at);
    L.circleMarker(at, { radius: 7, weight: 2, color: "#1f7a3d", fillOpacity: 0.7 })
      .bindTooltip(point.title)
      .addTo(map);
  });
  if (line.length > 1) {
    L.polyline(line, { color: "#1f7a3d", weight: 3, dashArray: "6 6" }).addTo(map);
  }
  if (line.length) map.fitBounds(L.latLngBounds(line).pad(0.2), { maxZoom: 11 });
  element.setAttribute("data-ready", "true");
  element.setAttribute("data-points", String(config.points.length));
})();
