/* The consumer's shop and her order's live status page, with no framework.
 *
 * Shop page (#shop-map): the location comes from "use my location" (navigator.geolocation),
 * a tap on the map, or typed coordinates; each fills the longitude/latitude inputs and
 * submits the location form, and the server answers with the serving warehouse (or the
 * out-of-zone message). The map shows every warehouse's delivery zone. The order form shows
 * an estimated total and sends once: the button is disabled on submit (and the form's
 * idempotency key makes a resent form return the first order anyway).
 *
 * Status page (#order-map): the warehouse, the home and the courier's marker. live.js
 * dispatches every event of ws/me/ as a document "live:event" ({type, payload}):
 *  - "delivery.position" for this order moves the courier's marker;
 *  - "delivery.order" for this order fetches the status panel again (its data-courier-*
 *    attributes then place or remove the marker). A reconnect refetches it too.
 * Coordinates are WGS 84, longitude first in the server's data, [lat, lng] for Leaflet.
 */
(function () {
  "use strict";

  var CHINA_CENTRE = [35.0, 105.0];

  function baseLayer(map, container) {
    // Credit Leaflet by name only; its default prefix carries a flag image.
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    var tilesUrl = container.dataset.tilesUrl;
    if (tilesUrl) {
      L.tileLayer(tilesUrl, { maxZoom: 19, attribution: container.dataset.tilesAttribution || "" }).addTo(map);
      return;
    }
    // No tile server configured (the app runs offline): a light grid to tap on.
    var Grid = L.GridLayer.extend({
      createTile: function () {
        var tile = document.createElement("div");
        tile.style.outline = "1px solid rgba(31, 122, 61, 0.12)";
        return tile;
      },
    });
    new Grid().addTo(map);
  }

  function readJson(id) {
    var element = id && document.getElementById(id);
    if (!element) return null;
    try { return JSON.parse(element.textContent); } catch (error) { return null; }
  }

  function icon(kind, testid) {
    return L.divIcon({
      className: "map-marker-wrap",
      html: '<span class="map-marker ' + kind + '" data-testid="' + testid + '"></span>',
      iconSize: [22, 22],
      iconAnchor: [11, 11],
    });
  }

  // Leaflet writes a string tooltip as HTML: names go in as text.
  function asText(text) {
    var span = document.createElement("span");
    span.textContent = text == null ? "" : String(text);
    return span;
  }

  function rounded(value) {
    return Math.round(value * 1e6) / 1e6;
  }

  // --- The shop ------------------------------------------------------------------------

  function setUpShop(container) {
    var form = document.getElementById("location-form");
    var longitude = document.getElementById("shop-longitude");
    var latitude = document.getElementById("shop-latitude");
    var status = document.getElementById("location-status");
    var map = L.map(container, { center: CHINA_CENTRE, zoom: 4 });
    baseLayer(map, container);

    var bounds = L.latLngBounds([]);
    (readJson(container.dataset.areas) || []).forEach(function (area) {
      var zone = L.geoJSON(area.zone, { style: { color: "#1f7a3d", weight: 1, fillOpacity: 0.08 } });
      zone.bindTooltip(asText(area.name));
      zone.addTo(map);
      bounds.extend(zone.getBounds());
    });

    var here = null;
    if (container.dataset.longitude && container.dataset.latitude) {
      var point = [parseFloat(container.dataset.latitude), parseFloat(container.dataset.longitude)];
      here = L.marker(point, { icon: icon("home", "home-marker") }).addTo(map);
      map.setView(point, 14);
    } else if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [10, 10] });
    }

    function go(lat, lng) {
      longitude.value = rounded(lng);
      latitude.value = rounded(lat);
      if (here) here.setLatLng([lat, lng]);
      else here = L.marker([lat, lng], { icon: icon("home", "home-marker") }).addTo(map);
      form.submit();
    }

    map.on("click", function (event) { go(event.latlng.lat, event.latlng.lng); });
    // Drawn while folded away, the map learns its size when the location is unfolded.
    var where = document.getElementById("where");
    if (where) {
      where.addEventListener("toggle", function () {
        if (!where.open) return;
        map.invalidateSize();
        if (here) map.setView(here.getLatLng(), 14);
      });
    }

    var locate = document.getElementById("use-my-location");
    locate.addEventListener("click", function () {
      if (!navigator.geolocation) {
        status.textContent = locate.dataset.unsupported;
        return;
      }
      status.textContent = locate.dataset.locating;
      navigator.geolocation.getCurrentPosition(
        function (position) { go(position.coords.latitude, position.coords.longitude); },
        function () { status.textContent = locate.dataset.refused; },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  function setUpOrderForm(form) {
    var estimate = document.getElementById("order-estimate");
    var inputs = form.querySelectorAll("input[data-price]");
    function update() {
      // Each line rounded to the cent, half up, as the server prices it.
      var cents = 0;
      inputs.forEach(function (input) {
        var kg = parseFloat(input.value);
        if (kg > 0) cents += Math.round(kg * parseFloat(input.dataset.price) * 100 + 1e-9);
      });
      if (estimate) estimate.textContent = "¥" + (cents / 100).toFixed(2);
    }
    inputs.forEach(function (input) { input.addEventListener("input", update); });
    update();

    var sent = false;
    // Back to a page kept in memory: the form may be sent again (its key stays the same).
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) return;
      sent = false;
      var button = document.getElementById("place-order");
      if (button && button.hasAttribute("aria-busy")) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
      }
    });
    form.addEventListener("submit", function (event) {
      if (sent) { event.preventDefault(); return; }
      sent = true;
      var button = document.getElementById("place-order");
      if (button) {
        // Disabled after this tick, so the click that submits still carries the form.
        setTimeout(function () { button.disabled = true; button.setAttribute("aria-busy", "true"); }, 0);
      }
    });
  }

  // --- An order's status ---------------------------------------------------------------

  function eventData(detail) {
    var data = (detail && detail.payload) || {};
    // A notification-shaped event carries its data one level down.
    if (data.order_id === undefined && data.payload) data = data.payload;
    return data;
  }

  function setUpOrder(container) {
    var config = readJson(container.dataset.config) || {};
    var orderId = String(config.orderId);
    var panel = document.getElementById("order-status-panel");
    var map = L.map(container, { center: CHINA_CENTRE, zoom: 4 });
    baseLayer(map, container);

    var bounds = L.latLngBounds([]);
    function place(spot, kind, label) {
      if (!spot || spot.latitude == null || spot.longitude == null) return null;
      var marker = L.marker([spot.latitude, spot.longitude], { icon: icon(kind, kind + "-marker") });
      marker.bindTooltip(asText(label));
      marker.addTo(map);
      bounds.extend(marker.getLatLng());
      return marker;
    }
    place(config.warehouse, "warehouse", container.dataset.labelWarehouse);
    place(config.home, "home", container.dataset.labelHome);

    var courier = null;
    function moveCourier(longitude, latitude) {
      if (longitude == null || latitude == null || isNaN(longitude) || isNaN(latitude)) return;
      if (!courier) {
        courier = L.marker([latitude, longitude], { icon: icon("courier", "courier-marker"), zIndexOffset: 1000 });
        courier.bindTooltip(asText(container.dataset.labelCourier));
        courier.addTo(map);
      } else {
        courier.setLatLng([latitude, longitude]);
      }
      var dot = courier.getElement() && courier.getElement().querySelector("[data-testid=courier-marker]");
      if (dot) {
        dot.setAttribute("data-longitude", String(longitude));
        dot.setAttribute("data-latitude", String(latitude));
      }
      container.setAttribute("data-courier-longitude", String(longitude));
      container.setAttribute("data-courier-latitude", String(latitude));
    }
    function removeCourier() {
      if (courier) { map.removeLayer(courier); courier = null; }
      container.removeAttribute("data-courier-longitude");
      container.removeAttribute("data-courier-latitude");
    }
    if (config.courier) moveCourier(config.courier.longitude, config.courier.latitude);

    if (bounds.isValid()) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 16 });

    function courierFromPanel() {
      var card = document.getElementById("order-status");
      if (!card) return;
      if (card.hasAttribute("data-courier-longitude")) {
        moveCourier(parseFloat(card.dataset.courierLongitude), parseFloat(card.dataset.courierLatitude));
      } else if (!card.hasAttribute("data-courier-name")) {
        removeCourier();
      }
    }

    function refresh() {
      return fetch(panel.dataset.statusUrl, { credentials: "same-origin", headers: { "X-Requested-With": "shop.js" } })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) {
          panel.innerHTML = html;
          panel.setAttribute("data-live-updated", String(Date.now()));
          courierFromPanel();
        })
        .catch(function () { /* the next event or reconnect tries again */ });
    }

    document.addEventListener("live:event", function (event) {
      var detail = event.detail || {};
      var data = eventData(detail);
      if (String(data.order_id) !== orderId) return;
      if (detail.type === "delivery.position") {
        moveCourier(parseFloat(data.longitude), parseFloat(data.latitude));
      } else if (detail.type === "delivery.order") {
        refresh();
      }
    });
    document.addEventListener("live:reconnected", refresh);
  }

  function start() {
    var shopMap = document.getElementById("shop-map");
    if (shopMap) setUpShop(shopMap);
    var orderForm = document.getElementById("order-form");
    if (orderForm) setUpOrderForm(orderForm);
    var orderMap = document.getElementById("order-map");
    if (orderMap) setUpOrder(orderMap);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
