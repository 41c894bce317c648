/* The control tower (/tower/): loads the screen's snapshot and the 30-day trends from the
 * API and reloads them (the snapshot every `refresh_seconds`, the trends every
 * `trends_refresh_seconds`). Polling, not a socket: the tower's figures are aggregates across
 * every app, so one cheap read on a timer is both the first paint and the recovery after a
 * lost connection, and it is scoped to the reader's area by the same selector as the API.
 *
 * Markers: markets (blue squares), front warehouses (purple diamonds), shipments in transit
 * (dots coloured by the cold chain's state) on their vehicle's last position, with the leg's
 * route as a thin line. Everything from the server is written as text, never as HTML.
 */
(function () {
  "use strict";

  var root = document.getElementById("tower");
  var configElement = document.getElementById("tower-config");
  if (!root || !configElement) return;
  var config = JSON.parse(configElement.textContent);
  var strings = config.strings || {};

  var COLOURS = { ok: "#1f7a3d", excursion: "#b3261e", signal_lost: "#8a5a00" };
  var CHART_HEIGHT = 120;
  var HALF_DAY = 12 * 3600;

  function setLive(state, text) {
    root.setAttribute("data-live", state);
    var status = document.getElementById("tower-status");
    if (status && text) status.textContent = text;
  }

  function clock(iso) {
    try {
      return new Date(iso).toLocaleTimeString([], {
        timeZone: config.time_zone,
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
      });
    } catch (error) {
      return iso;
    }
  }

  function getJson(url) {
    return fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) {
        var refused = new Error("refused");
        refused.refused = true;
        throw refused;
      }
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    });
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "–" : String(text);
    row.appendChild(td);
    return td;
  }

  function percentText(value) {
    return value === null || value === undefined ? "–" : value + " %";
  }

  // ---- counters and tables ----

  function showCounters(counters) {
    Object.keys(counters).forEach(function (name) {
      var element = root.querySelector('[data-counter="' + name + '"]');
      if (!element) return;
      var value = counters[name];
      element.textContent = name === "on_time_percent" ? percentText(value) : String(value);
      element.setAttribute("data-nonzero", String(Number(value) > 0));
    });
  }

  function fillRows(bodyId, emptyId, items, columns, attribute) {
    var body = document.getElementById(bodyId);
    var empty = document.getElementById(emptyId);
    if (!body) return;
    body.textContent = "";
    items.forEach(function (item) {
      var row = document.createElement("tr");
      row.setAttribute(attribute, String(item.id));
      columns(item).forEach(function (text) {
        cell(row, text);
      });
      body.appendChild(row);
    });
    if (empty) empty.hidden = items.length > 0;
  }

  function showShipments(shipments) {
    var list = document.getElementById("shipment-list");
    var empty = document.getElementById("shipments-empty");
    var count = document.getElementById("shipment-count");
    if (count) count.textContent = String(shipments.length);
    if (!list) return;
    list.textContent = "";
    shipments.forEach(function (shipment) {
      var item = document.createElement("li");
      item.className = "tower-shipment";
      item.setAttribute("data-shipment", String(shipment.id));
      item.setAttribute("data-state", shipment.state);
      item.textContent =
        shipment.code + " · " + shipment.origin + " → " + shipment.destination +
        " · " + shipment.state_label;
      list.appendChild(item);
    });
    if (empty) empty.hidden = shipments.length > 0;
  }

  // ---- the map ----

  var map = null;
  var layer = null;
  var fitted = false;

  function setUpMap() {
    var element = document.getElementById("tower-map");
    if (!element || !window.L) return null;
    var created = L.map(element, { center: [35.0, 110.0], zoom: 5 });
    created.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    var tilesUrl = element.getAttribute("data-tiles-url");
    if (tilesUrl) {
      L.tileLayer(tilesUrl, {
        maxZoom: 19,
        attribution: element.getAttribute("data-tiles-attribution") || "",
      }).addTo(created);
    } else {
      // No tile server configured (the app runs offline): a light grid and the scale.
      var Grid = L.GridLayer.extend({
        createTile: function () {
          var tile = document.createElement("div");
          tile.style.outline = "1px solid rgba(31, 122, 61, 0.12)";
          return tile;
        },
      });
      new Grid().addTo(created);
    }
    L.control.scale({ imperial: false }).addTo(created);
    element.setAttribute("data-ready", "true");
    return created;
  }

  function latLng(lonLat) {
    return lonLat ? [lonLat[1], lonLat[0]] : null;
  }

  function marker(position, kind, state, id, title) {
    var dot = document.createElement("span");
    dot.className = "tower-marker-dot";
    dot.setAttribute("data-kind", kind);
    dot.setAttribute("data-state", state);
    dot.setAttribute("data-id", String(id));
    var icon = L.divIcon({ className: "tower-marker", html: dot, iconSize: [16, 16] });
    return L.marker(position, { icon: icon, title: title, keyboard: false });
  }

  function popup(lines) {
    var box = document.createElement("div");
    lines.forEach(function (line, index) {
      var part = document.createElement(index === 0 ? "strong" : "div");
      part.textContent = line;
      box.appendChild(part);
    });
    return box;
  }

  function showMap(snapshot) {
    if (!map) map = setUpMap();
    if (!map) return;
    if (layer) layer.remove();
    layer = L.layerGroup().addTo(map);
    var bounds = [];
    snapshot.markets.forEach(function (market) {
      var position = latLng(market.location);
      if (!position) return;
      bounds.push(position);
      marker(position, "market", "ok", market.id, market.name)
        .bindPopup(popup([
          market.name,
          strings.market,
          market.trades + " " + strings.trades + " · " + market.tonnes + " " + strings.tonnes,
        ]))
        .addTo(layer);
    });
    snapshot.warehouses.forEach(function (warehouse) {
      var position = latLng(warehouse.location);
      bounds.push(position);
      var onTime = warehouse.delivered
        ? percentText(warehouse.on_time_percent) + " " + strings.on_time
        : strings.no_deliveries;
      marker(position, "warehouse", "ok", warehouse.id, warehouse.name)
        .bindPopup(popup([
          warehouse.name,
          strings.warehouse,
          warehouse.orders + " " + strings.orders + " · " + onTime,
        ]))
        .addTo(layer);
    });
    snapshot.shipments.forEach(function (shipment) {
      var colour = COLOURS[shipment.state] || COLOURS.ok;
      L.polyline([latLng(shipment.route[0]), latLng(shipment.route[1])], {
        color: colour,
        weight: 2,
        opacity: 0.5,
        dashArray: "4 6",
        interactive: false,
      }).addTo(layer);
      var position = latLng(shipment.position);
      bounds.push(position);
      marker(position, "shipment", shipment.state, shipment.id, shipment.code)
        .bindPopup(popup([
          shipment.code + (shipment.plate ? " · " + shipment.plate : ""),
          shipment.origin + " → " + shipment.destination,
          shipment.state_label,
        ]))
        .addTo(layer);
    });
    if (!fitted && bounds.length) {
      map.fitBounds(bounds, { padding: [30, 30], maxZoom: 11 });
      fitted = true;
    }
    map.getContainer().setAttribute("data-markers", String(bounds.length));
  }

  // ---- the snapshot ----

  function loadScreen() {
    return getJson(config.screen_url)
      .then(function (snapshot) {
        showCounters(snapshot.counters);
        fillRows("market-rows", "markets-empty", snapshot.markets, function (market) {
          return [market.name, market.trades, market.tonnes];
        }, "data-market");
        fillRows("warehouse-rows", "warehouses-empty", snapshot.warehouses, function (warehouse) {
          return [
            warehouse.name,
            warehouse.orders,
            warehouse.delivered ? percentText(warehouse.on_time_percent) : "–",
          ];
        }, "data-warehouse");
        showShipments(snapshot.shipments);
        showMap(snapshot);
        setLive("open", strings.updated.replace("%(time)s", clock(snapshot.at)));
      })
      .catch(function (error) {
        if (error && error.refused) {
          setLive("signed-out", strings.signed_out);
          return "stop";
        }
        setLive("closed", strings.load_failed);
        return null;
      });
  }

  // ---- the trends ----

  var charts = {};

  function dayToSeconds(iso) {
    var parts = iso.split("-");
    return Date.UTC(+parts[0], +parts[1] - 1, +parts[2]) / 1000;
  }

  function numbers(values, scale) {
    return values.map(function (value) {
      return value === null || value === undefined ? null : Number(value) * (scale || 1);
    });
  }

  var SERIES = {
    volume: { key: "volume_kg", scale: 0.001, label: "volume", bars: true },
    price_index: { key: "price_index", label: "price_index" },
    loss_rate_percent: { key: "loss_rate_percent", label: "loss_rate" },
    on_time_percent: { key: "on_time_percent", label: "on_time_rate" },
    excursion_minutes: { key: "excursion_minutes", label: "excursion_minutes", bars: true },
  };

  function drawTrend(figure, trends) {
    var name = figure.getAttribute("data-trend");
    var spec = SERIES[name];
    var target = figure.querySelector(".trend-chart");
    if (!spec || !target || !window.uPlot) return;
    var xs = trends.days.map(dayToSeconds);
    var ys = numbers(trends[spec.key], spec.scale);
    var data = [xs, ys];
    if (charts[name]) {
      charts[name].setData(data);
      return;
    }
    var options = {
      width: Math.max(target.clientWidth, 240),
      height: CHART_HEIGHT,
      tzDate: function (seconds) {
        return uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC");
      },
      cursor: { drag: { x: false, y: false } },
      legend: { show: false },
      scales: { x: { time: true, range: [xs[0] - HALF_DAY, xs[xs.length - 1] + HALF_DAY] } },
      series: [
        {},
        {
          label: strings[spec.label],
          stroke: "#1f7a3d",
          fill: spec.bars ? "rgba(31, 122, 61, 0.25)" : null,
          width: spec.bars ? 1 : 2,
          spanGaps: false,
          paths: spec.bars ? uPlot.paths.bars({ size: [0.7, 14] }) : undefined,
          points: { show: !spec.bars, size: 4 },
        },
      ],
      axes: [{ space: 60 }, { size: 44 }],
    };
    charts[name] = new uPlot(options, data, target);
    figure.setAttribute("data-chart-state", "ready");
  }

  function loadTrends() {
    return getJson(config.trends_url)
      .then(function (trends) {
        root.querySelectorAll("[data-trend]").forEach(function (figure) {
          drawTrend(figure, trends);
        });
      })
      .catch(function () {
        return null;
      });
  }

  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (name) {
      var target = charts[name].root.parentNode;
      charts[name].setSize({ width: Math.max(target.clientWidth, 240), height: CHART_HEIGHT });
    });
  });

  // ---- timers ----

  function every(seconds, load) {
    function tick() {
      load().then(function (outcome) {
        if (outcome !== "stop") window.setTimeout(tick, seconds * 1000);
      });
    }
    tick();
  }

  // Another script on the page (the risk warnings' socket) may ask for a fresh snapshot now.
  document.addEventListener("tower:refresh", function () {
    loadScreen();
  });

  every(config.refresh_seconds || 10, loadScreen);
  every(config.trends_refresh_seconds || 60, loadTrends);
})();
