/* Farm map: shows farms, and lets a farmer draw or edit one boundary.
 *
 * <div data-farm-map data-tiles-url data-tiles-attribution data-features="<json_script id>"
 *      data-boundary-input="<textarea id>"></div>
 * With no tiles URL there is no base layer, only a light grid: drawing still works.
 * The drawn polygon is written into the textarea as GeoJSON (WGS 84, longitude first);
 * GeoJSON pasted into the textarea is drawn. The server checks it either way.
 */
(function () {
  "use strict";

  var CHINA_CENTRE = [35.0, 105.0];
  var STYLE = { color: "#1f7a3d", weight: 2, fillOpacity: 0.2 };

  function gridLayer() {
    var Grid = L.GridLayer.extend({
      createTile: function () {
        var tile = document.createElement("div");
        tile.style.outline = "1px solid rgba(31, 122, 61, 0.12)";
        return tile;
      },
    });
    return new Grid();
  }

  function readJson(id) {
    var element = id && document.getElementById(id);
    if (!element) return null;
    try {
      return JSON.parse(element.textContent);
    } catch (error) {
      return null;
    }
  }

  function polygonLayerFrom(text) {
    try {
      var layer = L.geoJSON(JSON.parse(text), { style: STYLE });
      return layer.getLayers().length ? layer.getLayers()[0] : null;
    } catch (error) {
      return null;
    }
  }

  function setUp(container) {
    var map = L.map(container, { center: CHINA_CENTRE, zoom: 4, zoomControl: true });
    // Credit Leaflet by name only; its default prefix carries a flag image.
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    var tilesUrl = container.dataset.tilesUrl;
    if (tilesUrl) {
      L.tileLayer(tilesUrl, {
        maxZoom: 19,
        attribution: container.dataset.tilesAttribution || "",
      }).addTo(map);
    } else {
      gridLayer().addTo(map);
    }

    var bounds = L.latLngBounds([]);
    var features = readJson(container.dataset.features);
    if (features && features.features && features.features.length) {
      var shown = L.geoJSON(features, {
        style: STYLE,
        onEachFeature: function (feature, layer) {
          var link = document.createElement("a");
          link.href = feature.properties.url;
          link.textContent = feature.properties.name;
          layer.bindPopup(link);
        },
      }).addTo(map);
      bounds.extend(shown.getBounds());
    }

    var input = document.getElementById(container.dataset.boundaryInput || "");
    if (input && map.pm) {
      var boundary = null;
      var write = function () {
        input.value = boundary ? JSON.stringify(boundary.toGeoJSON().geometry) : "";
      };
      var track = function (layer) {
        boundary = layer;
        layer.on("pm:edit", write);
        write();
      };
      var replace = function (layer) {
        if (boundary && boundary !== layer) map.removeLayer(boundary);
        track(layer);
      };

      if (input.value.trim()) {
        var existing = polygonLayerFrom(input.value);
        if (existing) {
          boundary = existing.addTo(map);
          boundary.on("pm:edit", write);
          bounds.extend(boundary.getBounds());
        }
      }
      if (document.documentElement.lang.indexOf("zh") === 0) map.pm.setLang("zh");
      map.pm.addControls({
        position: "topleft",
        drawMarker: false,
        drawCircleMarker: false,
        drawPolyline: false,
        drawRectangle: true,
        drawPolygon: true,
        drawCircle: false,
        drawText: false,
        cutPolygon: false,
        rotateMode: false,
        dragMode: false,
        editMode: true,
        removalMode: true,
      });
      map.pm.setPathOptions(STYLE);
      map.on("pm:create", function (event) {
        replace(event.layer);
      });
      map.on("pm:remove", function (event) {
        if (event.layer === boundary) {
          boundary = null;
          write();
        }
      });
      input.addEventListener("change", function () {
        var layer = input.value.trim() ? polygonLayerFrom(input.value) : null;
        if (boundary) map.removeLayer(boundary);
        boundary = null;
        if (layer) {
          boundary = layer.addTo(map);
          boundary.on("pm:edit", write);
          map.fitBounds(boundary.getBounds(), { maxZoom: 17 });
        }
      });
      container.dataset.ready = "drawing";
    } else {
      container.dataset.ready = "viewing";
    }

    if (bounds.isValid()) {
      map.fitBounds(bounds, { maxZoom: 16, padding: [12, 12] });
    } else if (input && navigator.geolocation) {
      navigator.geolocation.getCurrentPosition(function (position) {
        map.setView([position.coords.latitude, position.coords.longitude], 15);
      });
    }
  }

  document.querySelectorAll("[data-farm-map]").forEach(setUp);
})();
