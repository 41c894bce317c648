/* Price history chart (uPlot, static/vendor/uplot): a product's last 30 days.
 *
 * <div data-price-chart="<json_script id of the data>" data-labels="<json_script id>"></div>
 * The data holds every day of the window ("days": ISO dates) and, per day, "min", "avg",
 * "max" prices and "volume" as decimal strings, or null where nothing traded: the lowest
 * to highest price is a shaded band, the average a line with dots, the volume bars at the
 * bottom. Days are drawn as calendar days (UTC midnight shown in UTC), whatever the phone's
 * time zone. One traded day is a row of dots; the page shows no chart for none.
 */
(function () {
  "use strict";

  var GREEN = "#1f7a3d";
  var GREEN_DARK = "#155c2d";
  var BAND = "rgba(31, 122, 61, 0.16)";
  var EDGE = "rgba(31, 122, 61, 0.55)";
  var VOLUME_FILL = "rgba(138, 90, 0, 0.22)";
  var VOLUME_EDGE = "rgba(138, 90, 0, 0.55)";
  var HALF_DAY = 12 * 3600;
  var HEIGHT = 260;

  function readJson(id) {
    var element = id && document.getElementById(id);
    if (!element) return null;
    try {
      return JSON.parse(element.textContent);
    } catch (error) {
      return null;
    }
  }

  function dayToSeconds(iso) {
    var parts = iso.split("-");
    return Date.UTC(+parts[0], +parts[1] - 1, +parts[2]) / 1000;
  }

  function numbers(values) {
    return values.map(function (value) {
      return value === null ? null : Number(value);
    });
  }

  function money(u, value) {
    return value == null ? "–" : "¥" + value.toFixed(2);
  }

  function weight(u, value) {
    return value == null ? "–" : String(value);
  }

  // A single price (one day, or a flat month) still gets a readable band of axis around it.
  function priceRange(u, low, high) {
    if (low == null || high == null) return [0, 1];
    var pad = Math.max((high - low) * 0.15, high * 0.08, 0.05);
    return [Math.max(0, low - pad), high + pad];
  }

  // Bars stay in the bottom third, under the prices.
  function volumeRange(u, low, high) {
    return [0, high > 0 ? high * 3 : 1];
  }

  function draw(element) {
    var data = readJson(element.getAttribute("data-price-chart"));
    var labels = readJson(element.getAttribute("data-labels")) || {};
    if (!data || !data.days || !data.days.length || !window.uPlot) return;
    var xs = data.days.map(dayToSeconds);
    var options = {
      width: Math.max(element.clientWidth, 280),
      height: HEIGHT,
      tzDate: function (seconds) {
        return uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC");
      },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true, range: [xs[0] - HALF_DAY, xs[xs.length - 1] + HALF_DAY] },
        price: { range: priceRange },
        volume: { range: volumeRange },
      },
      // Volume first and the average last, so the average's dots are drawn on top.
      series: [
        { label: labels.day, value: "{YYYY}-{MM}-{DD}" },
        {
          label: labels.volume,
          scale: "volume",
          stroke: VOLUME_EDGE,
          fill: VOLUME_FILL,
          width: 1,
          value: weight,
          paths: uPlot.paths.bars({ size: [0.6, 18] }),
          points: { show: false },
        },
        {
          label: labels.min,
          scale: "price",
          stroke: EDGE,
          width: 1,
          value: money,
          points: { show: true, size: 5, stroke: EDGE, fill: "#fff" },
        },
        {
          label: labels.max,
          scale: "price",
          stroke: EDGE,
          width: 1,
          value: money,
          points: { show: true, size: 5, stroke: EDGE, fill: "#fff" },
        },
        {
          label: labels.avg,
          scale: "price",
          stroke: GREEN_DARK,
          width: 2.5,
          value: money,
          points: { show: true, size: 8, stroke: GREEN_DARK, fill: GREEN },
        },
      ],
      bands: [{ series: [3, 2], fill: BAND }],
      // Units are in the legend's labels; axis titles would cost a phone a fifth of its width.
      axes: [
        {},
        {
          scale: "price",
          size: 44,
          values: function (u, ticks) {
            return ticks.map(function (tick) {
              return tick.toFixed(2);
            });
          },
        },
        { scale: "volume", side: 1, size: 40, grid: { show: false } },
      ],
    };
    var chart = new uPlot(
      options,
      [xs, numbers(data.volume), numbers(data.min), numbers(data.max), numbers(data.avg)],
      element
    );
    var pending = null;
    window.addEventListener("resize", function () {
      if (pending) cancelAnimationFrame(pending);
      pending = requestAnimationFrame(function () {
        chart.setSize({ width: Math.max(element.clientWidth, 280), height: HEIGHT });
      });
    });
  }

  document.querySelectorAll("[data-price-chart]").forEach(draw);
})();
