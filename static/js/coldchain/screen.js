/* The cold chain's wall screen (/coldchain/), with no framework.
 *
 * State comes from GET <snapshot_url> (shipments, cold stores, open alerts) and then from the
 * events of ws/coldchain/:
 *   readings       new points: the chart of that shipment or store grows, its latest reading
 *                  changes, the vehicle's marker moves to the position;
 *   alert          a new alert: into the panel; the subject turns red (excursion) or amber
 *                  (loss of signal);
 *   alert.updated  severity grew, resolved or acknowledged: the panel and the colour follow;
 *   shipment       a status change.
 * Every (re)connect reloads the snapshot, and so does a timer while connected, so a push that
 * was lost is made good; events that arrive while it loads are applied after it. Merges only
 * move forward (an alert once acknowledged or resolved stays so, its severity never drops, a
 * shipment's status never goes back, a newer reading wins), so their order does not matter.
 * The socket reconnects with backoff (1 s doubling to 30 s) and pings every 25 s.
 *
 * The page gives the markup (<template> elements, translated), the words it writes itself and
 * the URLs (json_script "screen-config"); the state legend gives the states' names.
 */
(function () {
  "use strict";

  var root = document.getElementById("screen");
  var configElement = document.getElementById("screen-config");
  if (!root || !configElement) return;
  var config = JSON.parse(configElement.textContent);
  var words = config.strings || {};
  var timeZone = config.time_zone || "Asia/Shanghai";
  var language = document.documentElement.lang || undefined;
  var charts = window.FreshChainCharts || null;
  if (charts) charts.claimSocket();

  var STATE_RANK = { ok: 0, signal_lost: 1, excursion: 2 };
  var STATES = ["ok", "signal_lost", "excursion"];
  var STATUS_RANK = { planned: 0, in_transit: 1, delivered: 2, rejected: 2, cancelled: 2 };
  var LIST_ORDER = { in_transit: 0, planned: 1 };
  var COLOURS = { ok: "#1f7a3d", signal_lost: "#8a5a00", excursion: "#b3261e" };
  var REFRESH_MS = 120000;

  var shipments = {};
  var stores = {};
  var alerts = {};
  var shipmentRows = {};
  var storeRows = {};
  var alertItems = {};
  var shipmentList = document.getElementById("shipment-list");
  var storeList = document.getElementById("store-list");
  var alertList = document.getElementById("alert-list");

  // ---- words, numbers and times ----

  var labels = config.labels || {};
  // The page's own words for a code; an event's label is in its sender's language.
  function label(group, code, fallback) {
    var names = labels[group] || {};
    return names[String(code)] || fallback || String(code);
  }

  var stateLabels = {};
  document.querySelectorAll("[data-state-label]").forEach(function (element) {
    stateLabels[element.getAttribute("data-state-label")] = element.textContent.trim();
  });

  function formatter(options) {
    try {
      return new Intl.DateTimeFormat(language, Object.assign({ timeZone: timeZone }, options));
    } catch (error) {
      return new Intl.DateTimeFormat(undefined, Object.assign({ timeZone: timeZone }, options));
    }
  }
  var clockFormat = formatter({ hour: "2-digit", minute: "2-digit", hour12: false });
  var secondsFormat = formatter({
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
  });
  var dayFormat = formatter({
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
  });
  var relative = null;
  try {
    relative = new Intl.RelativeTimeFormat(language, { numeric: "auto", style: "short" });
  } catch (error) {
    relative = null;
  }

  function celsius(value) {
    return value == null ? "–" : Number(value).toFixed(1) + " °C";
  }

  function range(subject) {
    return (
      Number(subject.min_temperature_c).toFixed(1) +
      " – " +
      Number(subject.max_temperature_c).toFixed(1) +
      " °C"
    );
  }

  function when(iso) {
    if (!iso) return "";
    var moment = new Date(iso);
    return (Date.now() - moment.getTime() > 20 * 3600 * 1000 ? dayFormat : clockFormat).format(
      moment
    );
  }

  function ago(iso) {
    if (!iso || !relative) return "";
    var seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
    var size = Math.abs(seconds);
    if (size < 60) return relative.format(0, "second");
    if (size < 3600) return relative.format(Math.round(seconds / 60), "minute");
    if (size < 48 * 3600) return relative.format(Math.round(seconds / 3600), "hour");
    return relative.format(Math.round(seconds / 86400), "day");
  }

  function setTime(element, iso) {
    element.textContent = when(iso);
    if (iso) element.setAttribute("datetime", iso);
    else element.removeAttribute("datetime");
    element.title = iso ? dayFormat.format(new Date(iso)) : "";
  }

  // ---- markup ----

  function fromTemplate(id) {
    var template = document.getElementById(id);
    return template.content.firstElementChild.cloneNode(true);
  }

  function slot(element, name) {
    return element.querySelector('[data-slot="' + name + '"]');
  }

  function fill(element, name, text) {
    var target = slot(element, name);
    if (target) target.textContent = text == null ? "" : String(text);
    return target;
  }

  function setState(element, state) {
    element.setAttribute("data-state", state);
    fill(element, "state_label", stateLabels[state] || state);
  }

  // ---- the map ----

  var map = null;
  var vehicleMarkers = {};
  var storeMarkers = {};
  var siteMarkers = {};
  var routes = {};
  var fitted = false;

  function setUpMap() {
    var element = document.getElementById("screen-map");
    if (!element || !window.L) return null;
    var created = L.map(element, { center: [35.0, 105.0], zoom: 4 });
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

  function markerIcon(kind, state, attributes) {
    var html = '<span class="screen-marker-dot" data-kind="' + kind + '" data-state="' + state + '"';
    Object.keys(attributes).forEach(function (name) {
      html += " data-" + name + '="' + String(attributes[name]).replace(/"/g, "") + '"';
    });
    html += "></span>";
    return L.divIcon({
      className: "screen-marker screen-marker-" + kind + " state-" + state,
      html: html,
      iconSize: kind === "vehicle" ? [22, 22] : [18, 18],
    });
  }

  // Leaflet writes a string tooltip as HTML; names and codes are people's text, so they go in
  // as a text node and a name like <img onerror=…> shows as written.
  function asText(text) {
    var span = document.createElement("span");
    span.textContent = text == null ? "" : String(text);
    return span;
  }

  function placeMarker(markers, key, kind, position, state, label, attributes) {
    if (!map) return;
    var marker = markers[key];
    if (!position) {
      if (marker) {
        map.removeLayer(marker);
        delete markers[key];
      }
      return;
    }
    if (!marker) {
      marker = L.marker(latLng(position), {
        icon: markerIcon(kind, state, attributes),
        keyboard: false,
        zIndexOffset: kind === "vehicle" ? 1000 : 500,
      });
      marker.state = state;
      marker.bindTooltip(asText(label), { direction: "top", offset: [0, -10] });
      marker.addTo(map);
      markers[key] = marker;
      return;
    }
    marker.setLatLng(latLng(position));
    marker.setTooltipContent(asText(label));
    if (marker.state !== state) {
      marker.state = state;
      marker.setIcon(markerIcon(kind, state, attributes));
    }
  }

  function siteMarker(site) {
    if (!map || !site || !site.location || siteMarkers[site.id]) return;
    siteMarkers[site.id] = L.circleMarker(latLng(site.location), {
      radius: 5,
      color: "#5b665f",
      weight: 1,
      fillColor: "#ffffff",
      fillOpacity: 1,
    })
      .bindTooltip(asText(site.name), { direction: "top" })
      .addTo(map);
  }

  function drawRoute(shipment) {
    if (!map) return;
    var line = routes[shipment.id];
    var ends = [shipment.origin && shipment.origin.location, shipment.destination && shipment.destination.location];
    if (!shipment.is_active || !ends[0] || !ends[1]) {
      if (line) {
        map.removeLayer(line);
        delete routes[shipment.id];
      }
      return;
    }
    var style = { color: COLOURS[shipment.state], weight: 2, opacity: 0.6, dashArray: "6 6" };
    if (!line) {
      routes[shipment.id] = L.polyline([latLng(ends[0]), latLng(ends[1])], style).addTo(map);
    } else {
      line.setStyle(style);
    }
  }

  // A vehicle may carry several legs: its colour is the worst of them.
  function drawVehicle(vehicleId) {
    var carried = Object.keys(shipments)
      .map(function (id) {
        return shipments[id];
      })
      .filter(function (shipment) {
        return shipment.vehicle && shipment.vehicle.id === vehicleId && shipment.is_active;
      });
    if (!carried.length) {
      placeMarker(vehicleMarkers, vehicleId, "vehicle", null);
      return;
    }
    var worst = carried.reduce(function (found, shipment) {
      return STATE_RANK[shipment.state] > STATE_RANK[found.state] ? shipment : found;
    });
    var label = worst.vehicle.plate + " · " + carried.map(function (s) { return s.code; }).join(", ");
    if (worst.latest_reading) label += " · " + celsius(worst.latest_reading.temperature_c);
    placeMarker(vehicleMarkers, vehicleId, "vehicle", worst.vehicle.position, worst.state, label, {
      "vehicle-id": vehicleId,
      "shipment-id": worst.id,
    });
  }

  function drawStoreMarker(store) {
    var label = store.name + " · " + store.site.name;
    if (store.latest_reading) label += " · " + celsius(store.latest_reading.temperature_c);
    placeMarker(storeMarkers, store.id, "store", store.site.location, store.state, label, {
      "store-id": store.id,
    });
  }

  function fitOnce() {
    if (!map || fitted) return;
    var bounds = L.latLngBounds([]);
    [vehicleMarkers, storeMarkers].forEach(function (markers) {
      Object.keys(markers).forEach(function (key) {
        bounds.extend(markers[key].getLatLng());
      });
    });
    Object.keys(siteMarkers).forEach(function (key) {
      bounds.extend(siteMarkers[key].getLatLng());
    });
    if (bounds.isValid()) {
      map.fitBounds(bounds, { maxZoom: 12, padding: [24, 24] });
      fitted = true;
    }
  }

  // ---- shipments and stores ----

  function shipmentChart(row, shipment) {
    var holder = slot(row, "chart");
    var element = holder.querySelector("[data-temperature-chart]");
    if (shipment.is_active && !element && charts) {
      element = document.createElement("div");
      element.className = "screen-chart";
      element.setAttribute("data-temperature-chart", "");
      element.setAttribute("data-compact", "");
      element.setAttribute("data-subject", "shipment:" + shipment.id);
      element.setAttribute("data-readings-url", shipment.readings_url || "");
      element.setAttribute("data-min", shipment.min_temperature_c);
      element.setAttribute("data-max", shipment.max_temperature_c);
      element.setAttribute("data-time-zone", timeZone);
      element.setAttribute("data-label", holder.getAttribute("data-label") || "°C");
      element.setAttribute("data-empty-label", holder.getAttribute("data-empty-label") || "");
      element.setAttribute("data-late-label", holder.getAttribute("data-late-label") || "");
      holder.appendChild(element);
      charts.mount(element);
    } else if (!shipment.is_active && element && charts) {
      charts.unmount(element);
      holder.removeChild(element);
    }
  }

  function drawReading(row, subject) {
    var reading = subject.latest_reading;
    var temperature = fill(row, "temperature", reading ? celsius(reading.temperature_c) : words.no_reading);
    var outside =
      reading &&
      (reading.temperature_c > subject.max_temperature_c ||
        reading.temperature_c < subject.min_temperature_c);
    temperature.classList.toggle("out-of-range", Boolean(outside));
    setTime(slot(row, "reading_time"), reading ? reading.recorded_at : null);
  }

  function drawShipment(shipment) {
    var row = shipmentRows[shipment.id];
    if (!row) {
      row = fromTemplate("shipment-row-template");
      row.setAttribute("data-shipment-id", shipment.id);
      shipmentRows[shipment.id] = row;
      shipmentList.appendChild(row);
    }
    setState(row, shipment.state);
    row.setAttribute("data-status", shipment.status);
    var code = fill(row, "code", shipment.code);
    if (shipment.detail_url) code.setAttribute("href", shipment.detail_url);
    else code.removeAttribute("href");
    fill(row, "status_label", label("shipment_status", shipment.status, shipment.status_label));
    fill(row, "origin", shipment.origin.name);
    fill(row, "destination", shipment.destination.name);
    fill(row, "range", range(shipment));
    var recalled = shipment.recalled_lots || [];
    fill(row, "recalled_lots", recalled.join(", "));
    slot(row, "recalled").hidden = recalled.length === 0;
    row.toggleAttribute("data-recalled", recalled.length > 0);
    var vehicle = shipment.vehicle;
    fill(
      row,
      "vehicle",
      vehicle ? vehicle.plate + (vehicle.position ? "" : " · " + words.no_position) : words.no_vehicle
    );
    drawReading(row, shipment);
    shipmentChart(row, shipment);
    siteMarker(shipment.origin);
    siteMarker(shipment.destination);
    drawRoute(shipment);
    if (vehicle) drawVehicle(vehicle.id);
  }

  function dropShipment(id) {
    var row = shipmentRows[id];
    var shipment = shipments[id];
    if (row) {
      var chart = row.querySelector("[data-temperature-chart]");
      if (chart && charts) charts.unmount(chart);
      row.parentNode.removeChild(row);
    }
    delete shipmentRows[id];
    delete shipments[id];
    if (routes[id] && map) map.removeLayer(routes[id]);
    delete routes[id];
    if (shipment && shipment.vehicle) drawVehicle(shipment.vehicle.id);
  }

  function drawStore(store) {
    var row = storeRows[store.id];
    if (!row) {
      row = fromTemplate("store-row-template");
      row.setAttribute("data-store-id", store.id);
      storeRows[store.id] = row;
      storeList.appendChild(row);
    }
    setState(row, store.state);
    fill(row, "name", store.name);
    fill(row, "site", store.site.name);
    fill(row, "range", range(store));
    drawReading(row, store);
    drawStoreMarker(store);
  }

  function dropStore(id) {
    var row = storeRows[id];
    if (row) row.parentNode.removeChild(row);
    delete storeRows[id];
    delete stores[id];
    placeMarker(storeMarkers, id, "store", null);
  }

  function byScreenOrder(a, b) {
    return (
      STATE_RANK[b.state] - STATE_RANK[a.state] ||
      (a.order != null ? a.order : 9) - (b.order != null ? b.order : 9) ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)
    );
  }

  function sortList(list, rows, items, orderOf) {
    Object.keys(items)
      .map(function (id) {
        var item = items[id];
        return { id: id, state: item.state, code: item.code || item.name, order: orderOf(item) };
      })
      .sort(byScreenOrder)
      .forEach(function (entry) {
        if (rows[entry.id]) list.appendChild(rows[entry.id]);
      });
  }

  function sortShipments() {
    sortList(shipmentList, shipmentRows, shipments, function (shipment) {
      return shipment.status in LIST_ORDER ? LIST_ORDER[shipment.status] : 2;
    });
  }

  function sortStores() {
    sortList(storeList, storeRows, stores, function () {
      return 0;
    });
  }

  // ---- alerts ----

  // An alert's state only moves forward, whatever order the snapshot and events come in.
  function mergeAlert(known, incoming) {
    if (!known) return incoming;
    var merged = Object.assign({}, incoming);
    if (known.severity > incoming.severity) {
      merged.severity = known.severity;
      merged.severity_label = known.severity_label;
    }
    ["resolved_at", "acknowledged_at"].forEach(function (field) {
      if (known[field] && !incoming[field]) merged[field] = known[field];
    });
    if (known.acknowledged_at && !incoming.acknowledged_at) {
      merged.acknowledgement_note = known.acknowledgement_note;
    }
    if (
      known.excursion &&
      incoming.excursion &&
      known.excursion.degree_minutes > incoming.excursion.degree_minutes
    ) {
      merged.excursion = known.excursion;
    }
    return merged;
  }

  function isOpen(alert) {
    return !alert.acknowledged_at || !alert.resolved_at;
  }

  function stateOf(subject, id) {
    var rank = 0;
    Object.keys(alerts).forEach(function (key) {
      var alert = alerts[key];
      if (alert.subject !== subject || alert.subject_id !== id || alert.resolved_at) return;
      rank = Math.max(rank, alert.kind === "excursion" ? 2 : 1);
    });
    return STATES[rank];
  }

  function drawAlert(alert) {
    var item = alertItems[alert.id];
    if (!item) {
      item = fromTemplate("alert-item-template");
      item.setAttribute("data-alert-id", alert.id);
      alertItems[alert.id] = item;
      alertList.appendChild(item);
      var form = slot(item, "ack_form");
      if (form) wireAcknowledge(form, alert.id);
    }
    item.setAttribute("data-severity", alert.severity);
    item.setAttribute("data-kind", alert.kind);
    item.setAttribute("data-subject", alert.subject + ":" + alert.subject_id);
    item.setAttribute("data-acknowledged", alert.acknowledged_at ? "true" : "false");
    item.setAttribute("data-resolved", alert.resolved_at ? "true" : "false");
    fill(item, "severity_label", label("severity", alert.severity, alert.severity_label));
    fill(item, "subject_code", alert.subject_code);
    fill(item, "subject_kind", alert.subject === "store" ? words.cold_store : "");
    fill(item, "kind_label", label("alert_kind", alert.kind, alert.kind_label));
    var excursion = alert.excursion;
    var since = excursion ? excursion.started_at : alert.raised_at;
    setTime(slot(item, "since"), since);
    fill(item, "ago", ago(since));
    slot(item, "ago").setAttribute("data-since", since || "");
    var facts = slot(item, "excursion");
    facts.hidden = !excursion;
    if (excursion) {
      fill(item, "excursion_kind", label("excursion_kind", excursion.kind, excursion.kind_label));
      fill(item, "peak", celsius(excursion.peak_c));
      fill(item, "degree_minutes", Number(excursion.degree_minutes).toFixed(1));
    }
    // Late readings no longer show the excursion: kept, and marked, for a person to judge.
    var disputed = slot(item, "disputed");
    if (disputed) disputed.hidden = !alert.disputed;
    item.setAttribute("data-disputed", alert.disputed ? "true" : "false");
    var resolved = fill(item, "resolved", alert.resolved_at ? words.resolved + " " + when(alert.resolved_at) : "");
    resolved.hidden = !alert.resolved_at;
    var acknowledged = slot(item, "acknowledged");
    acknowledged.hidden = !alert.acknowledged_at;
    if (alert.acknowledged_at) {
      fill(item, "acknowledged_label", words.acknowledged + " " + when(alert.acknowledged_at));
      fill(item, "note", alert.acknowledgement_note);
    }
    var form = slot(item, "ack_form");
    if (form) form.hidden = Boolean(alert.acknowledged_at);
  }

  function sortAlerts() {
    Object.keys(alerts)
      .map(function (id) {
        return alerts[id];
      })
      .sort(function (a, b) {
        return a.raised_at < b.raised_at ? 1 : a.raised_at > b.raised_at ? -1 : b.id - a.id;
      })
      .forEach(function (alert) {
        alertList.appendChild(alertItems[alert.id]);
      });
  }

  function countAlerts() {
    var count = Object.keys(alerts).length;
    document.getElementById("alert-count").textContent = String(count);
    document.getElementById("alerts-empty").hidden = count > 0;
    root.setAttribute("data-open-alerts", String(count));
  }

  function countSubjects() {
    var shipmentCount = Object.keys(shipments).length;
    var storeCount = Object.keys(stores).length;
    document.getElementById("shipments-empty").hidden = shipmentCount > 0;
    document.getElementById("stores-empty").hidden = storeCount > 0;
    document.querySelectorAll("[data-count]").forEach(function (element) {
      var kind = element.getAttribute("data-count");
      var value = kind === "shipments" ? shipmentCount : kind === "stores" ? storeCount : 0;
      if (kind === "excursions" || kind === "signal_lost") {
        var state = kind === "excursions" ? "excursion" : "signal_lost";
        value = [shipments, stores].reduce(function (total, items) {
          return (
            total +
            Object.keys(items).filter(function (id) {
              return items[id].state === state;
            }).length
          );
        }, 0);
      }
      element.textContent = String(value);
    });
  }

  // The subject's colour follows its alerts.
  function restate(subject, id) {
    var items = subject === "shipment" ? shipments : stores;
    var item = items[id];
    if (!item) return false;
    var state = stateOf(subject, id);
    if (item.state === state) return true;
    item.state = state;
    if (subject === "shipment") {
      drawShipment(item);
      sortShipments();
    } else {
      drawStore(item);
      sortStores();
    }
    countSubjects();
    return true;
  }

  function applyAlert(payload) {
    var alert = mergeAlert(alerts[payload.id], payload);
    if (isOpen(alert)) {
      alerts[alert.id] = alert;
      drawAlert(alert);
    } else {
      delete alerts[alert.id];
      if (alertItems[alert.id]) alertItems[alert.id].remove();
      delete alertItems[alert.id];
    }
    sortAlerts();
    countAlerts();
    return restate(alert.subject, alert.subject_id);
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function firstMessage(body) {
    if (!body || typeof body !== "object") return null;
    if (body.detail) return String(body.detail);
    var keys = Object.keys(body);
    for (var i = 0; i < keys.length; i++) {
      var value = body[keys[i]];
      if (Array.isArray(value) && value.length) return String(value[0]);
    }
    return null;
  }

  function wireAcknowledge(form, alertId) {
    var input = form.querySelector("input[name=note], textarea[name=note]");
    var label = form.querySelector("label");
    if (input && label) {
      input.id = "alert-note-" + alertId;
      label.setAttribute("for", input.id);
    }
    var error = slot(form, "error");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      error.hidden = true;
      fetch(config.alerts_url + alertId + "/acknowledge/", {
        method: "POST",
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          "Content-Type": "application/json",
          "X-CSRFToken": csrfToken(),
        },
        body: JSON.stringify({ note: input ? input.value : "" }),
      })
        .then(function (response) {
          return response
            .json()
            .catch(function () {
              return null;
            })
            .then(function (body) {
              if (response.ok) {
                if (input) input.value = "";
                applyAlert(body);
                return;
              }
              error.textContent = firstMessage(body) || words.acknowledge_failed;
              error.hidden = false;
              // Already acknowledged by someone else: show what they said.
              if (response.status === 409) loadSnapshot();
            });
        })
        .catch(function () {
          error.textContent = words.acknowledge_failed;
          error.hidden = false;
        })
        .then(function () {
          button.disabled = false;
        });
    });
  }

  // ---- snapshot and events ----

  function render(snapshot) {
    var knownAlerts = alerts;
    alerts = {};
    (snapshot.alerts || []).forEach(function (payload) {
      var alert = mergeAlert(knownAlerts[payload.id], payload);
      if (isOpen(alert)) alerts[alert.id] = alert;
    });
    Object.keys(alertItems).forEach(function (id) {
      if (!alerts[id]) {
        alertItems[id].remove();
        delete alertItems[id];
      }
    });
    Object.keys(alerts).forEach(function (id) {
      drawAlert(alerts[id]);
    });
    sortAlerts();
    countAlerts();

    var seen = {};
    (snapshot.shipments || []).forEach(function (shipment) {
      var known = shipments[shipment.id];
      if (known && STATUS_RANK[known.status] > STATUS_RANK[shipment.status]) {
        shipment.status = known.status;
        shipment.status_label = known.status_label;
        shipment.is_active = known.is_active;
      }
      if (known && known.latest_reading && shipment.latest_reading &&
          known.latest_reading.recorded_at > shipment.latest_reading.recorded_at) {
        shipment.latest_reading = known.latest_reading;
      }
      seen[shipment.id] = true;
      shipments[shipment.id] = shipment;
    });
    Object.keys(shipments).forEach(function (id) {
      if (!seen[id]) dropShipment(id);
    });
    Object.keys(shipments).forEach(function (id) {
      drawShipment(shipments[id]);
    });
    sortShipments();

    seen = {};
    (snapshot.stores || []).forEach(function (store) {
      seen[store.id] = true;
      stores[store.id] = store;
    });
    Object.keys(stores).forEach(function (id) {
      if (!seen[id]) dropStore(id);
      else drawStore(stores[id]);
    });
    sortStores();
    countSubjects();
    fitOnce();
    root.setAttribute("data-loaded", snapshot.generated_at || "");
  }

  function applyReadings(payload) {
    var points = payload.points || [];
    if (charts && points.length) charts.append(payload.subject + ":" + payload.subject_id, points);
    var items = payload.subject === "shipment" ? shipments : stores;
    var item = items[payload.subject_id];
    if (!item) return false;
    var last = points.length ? points[points.length - 1] : null;
    var at = last ? new Date(last[0] * 1000).toISOString() : null;
    if (last && (!item.latest_reading || Date.parse(item.latest_reading.recorded_at) <= last[0] * 1000)) {
      item.latest_reading = { recorded_at: at, temperature_c: last[1] };
    }
    if (payload.subject === "shipment") {
      var vehicle = item.vehicle;
      if (
        payload.position &&
        vehicle &&
        (payload.vehicle_id == null || payload.vehicle_id === vehicle.id) &&
        (!vehicle.position_at || !at || Date.parse(vehicle.position_at) <= Date.parse(at))
      ) {
        vehicle.position = payload.position;
        vehicle.position_at = at;
      }
      drawShipment(item);
    } else {
      drawStore(item);
    }
    return true;
  }

  function applyShipment(payload) {
    var shipment = shipments[payload.id];
    if (!shipment) return false;
    if (STATUS_RANK[payload.status] < STATUS_RANK[shipment.status]) return true;
    if (payload.status === "cancelled") {
      dropShipment(payload.id);
      countSubjects();
      return true;
    }
    shipment.status = payload.status;
    shipment.status_label = payload.status_label;
    shipment.is_active = payload.status === "planned" || payload.status === "in_transit";
    drawShipment(shipment);
    sortShipments();
    return true;
  }

  // Returns false for an event about something not on the screen yet: the snapshot has it.
  function apply(event) {
    var payload = event.payload || {};
    if (event.type === "readings") return applyReadings(payload);
    if (event.type === "alert" || event.type === "alert.updated") return applyAlert(payload);
    if (event.type === "shipment") return applyShipment(payload);
    return true;
  }

  var status = document.getElementById("screen-status");
  function setStatus(live, text) {
    root.setAttribute("data-live", live);
    status.textContent = text;
  }

  var loading = null;
  var loadAgain = false;
  var buffered = null;
  var catchUpTimer = null;

  function loadSnapshot() {
    if (loading) {
      loadAgain = true;
      return;
    }
    buffered = [];
    loading = fetch(config.snapshot_url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.ok ? response.json() : Promise.reject(response.status);
      })
      .then(function (snapshot) {
        render(snapshot);
        if (root.hasAttribute("data-load-error") && root.getAttribute("data-live") === "open") {
          status.textContent = words.live;
        }
        root.removeAttribute("data-load-error");
      })
      .catch(function () {
        root.setAttribute("data-load-error", "true");
        status.textContent = words.load_failed;
        loadAgain = false;
        setTimeout(loadSnapshot, 10000);
      })
      .then(function () {
        var pending = buffered || [];
        buffered = null;
        loading = null;
        pending.forEach(apply);
        if (loadAgain) {
          loadAgain = false;
          loadSnapshot();
        }
      });
  }

  // Something unknown arrived (a new shipment on the road): fetch it, once for a burst.
  function catchUpSoon() {
    if (catchUpTimer) return;
    catchUpTimer = setTimeout(function () {
      catchUpTimer = null;
      loadSnapshot();
    }, 1500);
  }

  function receive(event) {
    if (buffered) {
      buffered.push(event);
      return;
    }
    if (!apply(event)) catchUpSoon();
  }

  function listen() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + location.host + (config.socket_path || "/ws/coldchain/");
    var delay = 1000;
    var pinger = null;
    var refresher = null;
    var openedOnce = false;

    function connect() {
      var socket;
      try {
        socket = new WebSocket(url);
      } catch (error) {
        retry();
        return;
      }
      socket.onopen = function () {
        delay = 1000;
        setStatus("open", words.live);
        loadSnapshot();
        if (openedOnce && charts) charts.refreshAll();
        openedOnce = true;
        pinger = setInterval(function () {
          if (socket.readyState === WebSocket.OPEN) socket.send('{"type":"ping"}');
        }, 25000);
        refresher = setInterval(loadSnapshot, REFRESH_MS);
      };
      socket.onmessage = function (message) {
        var event;
        try {
          event = JSON.parse(message.data);
        } catch (error) {
          return;
        }
        if (!event || !event.type || event.type === "pong" || event.type === "error") return;
        receive(event);
        document.dispatchEvent(new CustomEvent("freshchain:coldchain", { detail: event }));
      };
      socket.onclose = function (close) {
        clearInterval(pinger);
        clearInterval(refresher);
        if (close.code === 4401) {
          setStatus("signed-out", words.signed_out);
          return;
        }
        if (close.code === 4403) {
          setStatus("refused", words.not_allowed);
          return;
        }
        setStatus("closed", words.reconnecting);
        retry();
      };
    }

    function retry() {
      setTimeout(connect, delay + Math.random() * 500);
      delay = Math.min(delay * 2, 30000);
    }

    connect();
  }

  // ---- clock and ages ----

  var clock = document.getElementById("screen-clock");
  function tick() {
    var now = new Date();
    if (clock) {
      clock.textContent = secondsFormat.format(now);
      clock.setAttribute("datetime", now.toISOString());
    }
  }

  function refreshAges() {
    document.querySelectorAll("#alert-list [data-slot=ago]").forEach(function (element) {
      element.textContent = ago(element.getAttribute("data-since"));
    });
  }

  map = setUpMap();
  tick();
  setInterval(tick, 1000);
  setInterval(refreshAges, 30000);
  setStatus("connecting", words.connecting);
  loadSnapshot();
  listen();
})();
