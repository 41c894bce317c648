/* Live temperature chart of a shipment or a cold store (uPlot, static/vendor/uplot).
 *
 * <div data-temperature-chart
 *      data-readings-url="/api/coldchain/shipments/12/readings/"
 *      data-subject="shipment:12"            (or "store:3": live points are matched on it)
 *      data-min="0" data-max="4"             (the range, °C; the API's answer overrides them)
 *      data-label="Temperature (°C)"         (translated by the page; the legend's label)
 *      data-empty-label="No readings yet"    (shown while there is nothing to draw)
 *      data-time-zone="Asia/Shanghai"        (optional; the default)
 *      data-compact                          (optional: small, no legend, for the wall screen)
 *      data-live></div>                      (optional: listen to ws/coldchain/ by itself)
 *
 * Every such element is mounted on load. The range is a shaded band; the line and its points
 * turn red outside it. The series API answers {"min_temperature_c", "max_temperature_c",
 * "points": [[epoch_seconds, temperature_c, humidity_pct], ...]}.
 *
 * window.FreshChainCharts:
 *   mount(element), unmount(element): for charts added or removed after load;
 *   append("shipment:12", [[epoch_seconds, temperature_c], ...]): live points, merged by time
 *     (a repeated or late point is harmless);
 *   refreshAll(): fetch what each chart missed (?since=<its newest point>), after a reconnect;
 *   claimSocket(): a page script that owns a ws/coldchain/ socket (the wall screen) says so,
 *     and feeds append() itself. Otherwise, with data-live present, this file opens the socket,
 *     reconnecting with backoff, and re-fetches on every reconnect. Every event received that
 *     way is also dispatched on document as a "freshchain:coldchain" CustomEvent.
 */
(function () {
  "use strict";

  var GREEN = "#1f7a3d";
  var RED = "#b3261e";
  var BAND = "rgba(31, 122, 61, 0.13)";
  var BAND_EDGE = "rgba(31, 122, 61, 0.55)";
  var MAX_POINTS = 2000;
  var charts = [];
  var socketClaimed = false;
  var clockFormat = window.uPlot ? uPlot.fmtDate("{HH}:{mm}") : null;
  var dayFormat = window.uPlot ? uPlot.fmtDate("{MM}-{DD}") : null;

  function number(value, fallback) {
    var parsed = parseFloat(value);
    return isFinite(parsed) ? parsed : fallback;
  }

  function celsius(u, value) {
    return value == null ? "–" : value.toFixed(1) + " °C";
  }

  function width(element) {
    return Math.max(element.clientWidth || 0, 200);
  }

  // The line's colour by height: red above max and below min, green between.
  function rangeStroke(chart) {
    return function (u) {
      var box = u.bbox;
      if (!box.height) return GREEN;
      var top = u.valToPos(chart.max, "y", true);
      var bottom = u.valToPos(chart.min, "y", true);
      var clamp = function (value) {
        return Math.min(1, Math.max(0, (value - box.top) / box.height));
      };
      var gradient = u.ctx.createLinearGradient(0, box.top, 0, box.top + box.height);
      gradient.addColorStop(0, RED);
      gradient.addColorStop(clamp(top), RED);
      gradient.addColorStop(clamp(top), GREEN);
      gradient.addColorStop(clamp(bottom), GREEN);
      gradient.addColorStop(clamp(bottom), RED);
      gradient.addColorStop(1, RED);
      return gradient;
    };
  }

  // The range band, under the grid and the line.
  function drawBand(chart) {
    return function (u) {
      var box = u.bbox;
      var top = Math.max(u.valToPos(chart.max, "y", true), box.top);
      var bottom = Math.min(u.valToPos(chart.min, "y", true), box.top + box.height);
      if (bottom <= top) return;
      var ctx = u.ctx;
      ctx.save();
      ctx.fillStyle = BAND;
      ctx.fillRect(box.left, top, box.width, bottom - top);
      ctx.strokeStyle = BAND_EDGE;
      ctx.lineWidth = 1;
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      ctx.moveTo(box.left, top);
      ctx.lineTo(box.left + box.width, top);
      ctx.moveTo(box.left, bottom);
      ctx.lineTo(box.left + box.width, bottom);
      ctx.stroke();
      ctx.restore();
    };
  }

  function options(chart) {
    var element = chart.element;
    var timeZone = element.getAttribute("data-time-zone") || "Asia/Shanghai";
    var font = chart.compact ? "11px system-ui, sans-serif" : "12px system-ui, sans-serif";
    var stroke = rangeStroke(chart);
    return {
      width: width(element),
      height: number(element.getAttribute("data-height"), chart.compact ? 120 : 240),
      tzDate: function (seconds) {
        return uPlot.tzDate(new Date(seconds * 1000), timeZone);
      },
      legend: { show: !chart.compact },
      cursor: { drag: { x: !chart.compact, y: false } },
      scales: {
        x: {
          time: true,
          range: function (u, low, high) {
            if (low == null || high == null) {
              var now = Date.now() / 1000;
              return [now - 3600, now];
            }
            return low === high ? [low - 1800, high + 1800] : [low, high];
          },
        },
        // Always show the whole band, and the readings around it.
        y: {
          range: function (u, low, high) {
            var bottom = Math.min(low == null ? chart.min : low, chart.min);
            var top = Math.max(high == null ? chart.max : high, chart.max);
            var pad = Math.max((top - bottom) * 0.12, 0.5);
            return [bottom - pad, top + pad];
          },
        },
      },
      series: [
        { label: element.getAttribute("data-time-label") || "", value: "{MM}-{DD} {HH}:{mm}" },
        {
          label: element.getAttribute("data-label") || "°C",
          stroke: stroke,
          width: chart.compact ? 1.5 : 2,
          value: celsius,
          spanGaps: false,
          points: { size: chart.compact ? 3 : 5, stroke: stroke, fill: stroke },
        },
      ],
      axes: [
        {
          font: font,
          size: chart.compact ? 28 : 40,
          space: chart.compact ? 70 : 60,
          // 24-hour clock times (days for a long window), as read in China.
          values: function (u, ticks) {
            var long = ticks.length > 1 && ticks[ticks.length - 1] - ticks[0] > 36 * 3600;
            var format = long ? dayFormat : clockFormat;
            return ticks.map(function (tick) {
              return format(uPlot.tzDate(new Date(tick * 1000), timeZone));
            });
          },
        },
        {
          font: font,
          size: chart.compact ? 34 : 44,
          values: function (u, ticks) {
            return ticks.map(function (tick) {
              return tick.toFixed(tick % 1 ? 1 : 0);
            });
          },
        },
      ],
      hooks: { drawClear: [drawBand(chart)] },
    };
  }

  // Merge points into the chart's series by time; a time seen before keeps its newest value.
  function merge(chart, points) {
    if (!points || !points.length) return;
    var xs = chart.xs;
    var ys = chart.ys;
    var last = xs.length ? xs[xs.length - 1] : -Infinity;
    var inOrder = true;
    for (var i = 0; i < points.length; i++) {
      if (points[i][0] <= (i ? points[i - 1][0] : last)) {
        inOrder = false;
        break;
      }
    }
    if (inOrder) {
      points.forEach(function (point) {
        xs.push(point[0]);
        ys.push(point[1]);
      });
    } else {
      var byTime = {};
      xs.forEach(function (x, index) {
        byTime[x] = ys[index];
      });
      points.forEach(function (point) {
        byTime[point[0]] = point[1];
      });
      var times = Object.keys(byTime)
        .map(Number)
        .sort(function (a, b) {
          return a - b;
        });
      chart.xs = xs = times;
      chart.ys = ys = times.map(function (x) {
        return byTime[x];
      });
    }
    if (xs.length > MAX_POINTS) {
      xs.splice(0, xs.length - MAX_POINTS);
      ys.splice(0, ys.length - MAX_POINTS);
    }
  }

  function redraw(chart) {
    if (!chart.plot) return;
    chart.plot.setData([chart.xs, chart.ys]);
    var count = chart.xs.length;
    chart.element.setAttribute("data-points", String(count));
    chart.element.setAttribute("data-chart-state", count ? "ready" : "empty");
    if (chart.emptyNote) chart.emptyNote.hidden = count > 0;
  }

  // Readings that arrived late (after the watch ended, or long after they were taken) are
  // counted under the chart: "<data-late-label>: n".
  function showLate(chart, count) {
    chart.element.setAttribute("data-late-readings", String(count));
    var label = chart.element.getAttribute("data-late-label");
    if (!label) return;
    if (!chart.lateNote) {
      chart.lateNote = document.createElement("p");
      chart.lateNote.className = "chart-late";
      chart.element.appendChild(chart.lateNote);
    }
    chart.lateNote.textContent = label + ": " + count;
    chart.lateNote.hidden = !count;
  }

  function load(chart, since) {
    var url = chart.url;
    if (!url) return Promise.resolve();
    if (since != null) {
      url += (url.indexOf("?") < 0 ? "?" : "&") + "since=";
      url += encodeURIComponent(new Date(since * 1000).toISOString());
    }
    chart.loading = true;
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : Promise.reject(response.status);
      })
      .then(function (series) {
        if (series.min_temperature_c != null) chart.min = Number(series.min_temperature_c);
        if (series.max_temperature_c != null) chart.max = Number(series.max_temperature_c);
        showLate(chart, series.late_readings || 0);
        merge(
          chart,
          (series.points || []).map(function (point) {
            return [point[0], point[1]];
          })
        );
        chart.loaded = true;
      })
      .catch(function () {
        chart.element.setAttribute("data-chart-state", "error");
      })
      .then(function () {
        chart.loading = false;
        // Live points that came while the history was on its way.
        merge(chart, chart.pending);
        chart.pending = [];
        redraw(chart);
      });
  }

  function find(element) {
    for (var i = 0; i < charts.length; i++) {
      if (charts[i].element === element) return charts[i];
    }
    return null;
  }

  function mount(element) {
    if (!window.uPlot || find(element)) return find(element);
    var chart = {
      element: element,
      subject: element.getAttribute("data-subject") || "",
      url: element.getAttribute("data-readings-url") || "",
      min: number(element.getAttribute("data-min"), 0),
      max: number(element.getAttribute("data-max"), 4),
      compact: element.hasAttribute("data-compact"),
      xs: [],
      ys: [],
      pending: [],
      loaded: false,
      loading: false,
    };
    var emptyLabel = element.getAttribute("data-empty-label");
    if (emptyLabel) {
      chart.emptyNote = document.createElement("p");
      chart.emptyNote.className = "chart-empty";
      chart.emptyNote.textContent = emptyLabel;
      element.appendChild(chart.emptyNote);
    }
    chart.plot = new uPlot(options(chart), [[], []], element);
    element.setAttribute("data-chart-state", "loading");
    charts.push(chart);
    if (window.ResizeObserver) {
      chart.resizer = new ResizeObserver(function () {
        var size = width(element);
        if (chart.plot && Math.abs(size - chart.plot.width) > 2) {
          chart.plot.setSize({ width: size, height: chart.plot.height });
        }
      });
      chart.resizer.observe(element);
    }
    load(chart, null);
    return chart;
  }

  function unmount(element) {
    var chart = find(element);
    if (!chart) return;
    if (chart.resizer) chart.resizer.disconnect();
    chart.plot.destroy();
    chart.plot = null;
    charts.splice(charts.indexOf(chart), 1);
  }

  function append(subject, points) {
    charts.forEach(function (chart) {
      if (chart.subject !== subject) return;
      if (chart.loading) {
        chart.pending = chart.pending.concat(points);
      } else {
        merge(chart, points);
        redraw(chart);
      }
    });
  }

  function refreshAll() {
    charts.forEach(function (chart) {
      if (chart.loading) return;
      load(chart, chart.loaded && chart.xs.length ? chart.xs[chart.xs.length - 1] : null);
    });
  }

  window.FreshChainCharts = {
    mount: mount,
    unmount: unmount,
    append: append,
    refreshAll: refreshAll,
    claimSocket: function () {
      socketClaimed = true;
    },
  };

  // The phone's shipment page: no screen.js, so listen here.
  function listen() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + location.host + "/ws/coldchain/";
    var delay = 1000;
    var pinger = null;
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
        if (openedOnce) refreshAll();
        openedOnce = true;
        pinger = setInterval(function () {
          if (socket.readyState === WebSocket.OPEN) socket.send('{"type":"ping"}');
        }, 25000);
      };
      socket.onmessage = function (message) {
        var event;
        try {
          event = JSON.parse(message.data);
        } catch (error) {
          return;
        }
        if (!event || !event.type || event.type === "pong") return;
        var payload = event.payload || {};
        if (event.type === "readings" && payload.points) {
          append(payload.subject + ":" + payload.subject_id, payload.points);
        }
        document.dispatchEvent(new CustomEvent("freshchain:coldchain", { detail: event }));
      };
      socket.onclose = function (close) {
        clearInterval(pinger);
        // 4401 signed out, 4403 no screen for this account: nothing to listen to.
        if (close.code !== 4401 && close.code !== 4403) retry();
      };
    }

    function retry() {
      setTimeout(connect, delay + Math.random() * 500);
      delay = Math.min(delay * 2, 30000);
    }

    connect();
  }

  function start() {
    document.querySelectorAll("[data-temperature-chart]").forEach(mount);
    if (!socketClaimed && document.querySelector("[data-temperature-chart][data-live]")) {
      listen();
    }
  }

  // Wait for the page's other scripts: a screen that owns a socket claims it as it runs.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    setTimeout(start, 0);
  }
})();
