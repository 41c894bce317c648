/* The courier's page (/courier/), with no framework.
 *
 *  - form[data-courier-form]: sent with fetch instead of a page load. The server answers with
 *    the whole page (after a redirect on success, or with the refusal beside the field at
 *    fault); every [data-section] of the answer replaces the one on screen. Without script the
 *    same forms work as plain posts.
 *  - live events (static/js/live.js dispatches "live:event" on document): "delivery.offer"
 *    fetches the offer card again, "delivery.task" the task and today's figures,
 *    "delivery.courier" (activated or deactivated by the warehouse) the whole page. After a
 *    reconnect, or when the phone wakes up, everything is fetched again (events may be lost).
 *  - [data-countdown]: counts down to the offer's end (from the server's seconds left, so a
 *    phone whose clock is off still counts right); at zero the buttons are disabled and the
 *    card fetched again.
 *  - input[data-photo-input]: choosing or taking a photo sends its form at once.
 *  - positions: while on shift, navigator.geolocation.watchPosition; a fix is kept to send
 *    at most every 10 s, sooner after 30 m moved, never twice within 5 s; a standing courier
 *    is re-sent every 20 s. Kept fixes (localStorage, with the time each was taken, on the
 *    server's clock as the last answer told it) are sent one by one in order; with no
 *    connection they wait and the page says how many, then go when it returns (the online
 *    event, and retries). No geolocation (old phone, blocked, plain http): the page works
 *    without it and says so.
 */
(function () {
  "use strict";

  var page = document.querySelector("[data-courier-page]");
  if (!page) return;

  var SEND_EVERY_MS = 10000;
  var SEND_AFTER_M = 30;
  var NEVER_WITHIN_MS = 5000;
  var HEARTBEAT_MS = 20000;

  function text(name) {
    var element = page.querySelector('[data-text="' + name + '"]');
    return element ? element.textContent.trim() : "";
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function section(name) {
    return page.querySelector('[data-section="' + name + '"]');
  }

  function showProblem(message) {
    var slot = section("problem");
    if (!slot) return;
    slot.textContent = "";
    if (!message) return;
    var line = document.createElement("p");
    line.className = "errorlist nonfield";
    line.setAttribute("data-problem", "");
    line.textContent = message;
    slot.appendChild(line);
  }

  // --- Sections -------------------------------------------------------------------------------

  function afterSwap() {
    syncPositions();
    tick();
  }

  function swapSections(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var found = false;
    fresh.querySelectorAll("[data-section]").forEach(function (incoming) {
      var current = section(incoming.getAttribute("data-section"));
      if (current) {
        current.innerHTML = incoming.innerHTML;
        found = true;
      }
    });
    if (found) afterSwap();
    return found;
  }

  var URLS = {
    offer: page.getAttribute("data-offer-url"),
    task: page.getAttribute("data-task-url"),
    day: page.getAttribute("data-day-url"),
  };

  function refresh(name) {
    var target = section(name);
    if (!target || !URLS[name]) return Promise.resolve();
    return fetch(URLS[name], {
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        target.innerHTML = html;
        target.setAttribute("data-refreshed", String(Date.now()));
        afterSwap();
      })
      .catch(function () { /* the next event, reconnect or wake-up tries again */ });
  }

  // Activated or deactivated by the warehouse: the whole page (shift switch included) again.
  function refreshPage() {
    return fetch(location.pathname, {
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) { swapSections(html); })
      .catch(function () { /* the next event, reconnect or wake-up tries again */ });
  }

  function refreshAll() {
    refresh("offer");
    refresh("task");
    refresh("day");
  }

  document.addEventListener("live:event", function (event) {
    var kind = event.detail && event.detail.type;
    if (kind === "delivery.offer") {
      refresh("offer");
    } else if (kind === "delivery.task") {
      refresh("task");
      refresh("day");
    } else if (kind === "delivery.courier") {
      refreshPage();
    }
  });
  document.addEventListener("live:reconnected", refreshAll);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") refreshAll();
  });

  // --- Forms ----------------------------------------------------------------------------------

  function setBusy(form, busy) {
    form.classList.toggle("busy", busy);
    form.querySelectorAll("button").forEach(function (button) { button.disabled = busy; });
    if (busy) form.setAttribute("data-busy", "");
    else form.removeAttribute("data-busy");
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest && event.target.closest("form[data-courier-form]");
    if (!form || !page.contains(form)) return;
    event.preventDefault();
    if (form.hasAttribute("data-busy")) return;  // a double tap sends once
    setBusy(form, true);
    showProblem("");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    })
      .then(function (response) {
        return response.text().then(function (html) {
          var isPage = (response.headers.get("Content-Type") || "").indexOf("text/html") === 0;
          // The page again, or with a refusal beside its field: swap it in. Anything else
          // (another's object, signed out, a server fault): say so and catch up.
          if (!(isPage && swapSections(html))) {
            setBusy(form, false);
            showProblem(text("gone"));
            refreshAll();
          }
        });
      })
      .catch(function () {
        setBusy(form, false);
        showProblem(text("offline"));
      });
  });

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[data-photo-input]") || !input.files.length) return;
    var form = input.form;
    if (form.requestSubmit) form.requestSubmit();
    else form.dispatchEvent(new Event("submit", { cancelable: true, bubbles: true }));
  });

  // Only digits go into a code box (a Chinese keyboard may still offer letters).
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[name=code]")) return;
    var digits = input.value.replace(/[０-９]/g, function (digit) {
      return String.fromCharCode(digit.charCodeAt(0) - 0xfee0);
    }).replace(/[^0-9]/g, "").slice(0, 4);
    if (digits !== input.value) input.value = digits;
  });

  // --- The offer's countdown ------------------------------------------------------------------

  function tick() {
    page.querySelectorAll("[data-countdown]").forEach(function (countdown) {
      if (!countdown.hasAttribute("data-deadline")) {
        var seconds = parseInt(countdown.getAttribute("data-seconds-left"), 10) || 0;
        countdown.setAttribute("data-deadline", String(Date.now() + seconds * 1000));
        countdown.setAttribute("data-total", String(Math.max(seconds, 1)));
      }
      var deadline = parseInt(countdown.getAttribute("data-deadline"), 10);
      var total = parseInt(countdown.getAttribute("data-total"), 10);
      var left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      var label = countdown.querySelector("[data-countdown-text]");
      var card = countdown.closest("[data-offer-card]");
      var bar = card && card.querySelector("[data-countdown-bar]");
      if (left > 0 && label) label.textContent = String(left);
      else if (left === 0 && label) countdown.textContent = text("expired");
      if (bar) bar.style.width = Math.round((left / total) * 100) + "%";
      countdown.classList.toggle("urgent", left <= 10);
      countdown.setAttribute("data-left", String(left));
      if (left === 0 && card && !card.hasAttribute("data-expired")) {
        card.setAttribute("data-expired", "");
        card.querySelectorAll("[data-accept-offer]").forEach(function (button) { button.disabled = true; });
        setTimeout(function () { refresh("offer"); }, 1500);
      }
    });
  }

  setInterval(tick, 1000);

  // --- Positions ------------------------------------------------------------------------------

  var positionsUrl = page.getAttribute("data-positions-url");
  var KEPT_KEY = "fc-courier-positions";
  var MAX_KEPT = 500;  // about 80 minutes of fixes; the oldest go first
  var RETRY_MS = [2000, 4000, 8000, 16000, 30000];
  var watchId = null;
  var latest = null;  // the newest fix: {longitude, latitude, accuracy}
  var recorded = null;  // the last fix kept to send: {longitude, latitude, at}
  var sending = false;
  var heartbeat = null;
  var retries = 0;
  var retryTimer = null;
  var clockOffset = 0;  // the server's clock minus the phone's, from the answers' Date header

  var geoMessage = "";  // said again after the shift section is swapped

  function geoStatus(message) {
    if (message) geoMessage = message;
    var line = page.querySelector("[data-geo-status]");
    if (line && geoMessage) line.textContent = geoMessage;
  }

  function isOnShift() {
    var toggle = page.querySelector("[data-shift-switch]");
    return !!toggle && toggle.getAttribute("data-on-shift") === "true";
  }

  // The sphere of common/geo.py (its mean radius), for deciding when a fix is worth sending.
  function metresBetween(a, b) {
    var rad = Math.PI / 180;
    var dLat = (b.latitude - a.latitude) * rad;
    var dLon = (b.longitude - a.longitude) * rad;
    var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
  }

  function isDue(fix, now) {
    if (!recorded) return true;
    var elapsed = now - recorded.at;
    if (elapsed < NEVER_WITHIN_MS) return false;
    return elapsed >= SEND_EVERY_MS || metresBetween(recorded, fix) >= SEND_AFTER_M;
  }

  // Fixes wait here (localStorage) until the server has them: through a tunnel they pile up
  // and are sent in order when the connection returns; each carries the time it was taken,
  // and the server keeps the latest (an older one arriving late is dropped there).
  function kept() {
    try {
      return JSON.parse(localStorage.getItem(KEPT_KEY)) || [];
    } catch (error) {
      return [];
    }
  }

  function keep(fixes) {
    try {
      localStorage.setItem(KEPT_KEY, JSON.stringify(fixes.slice(-MAX_KEPT)));
    } catch (error) { /* full or blocked: the newest fix is still sent when it can be */ }
  }

  function showKept() {
    var count = kept().length;
    page.setAttribute("data-positions-kept", String(count));
    if (count > 1 || (count && !navigator.onLine)) {
      geoStatus(text("geo-kept").replace("{count}", count));
    }
  }

  function record(fix) {
    var now = Date.now();
    var fixes = kept();
    fixes.push({
      longitude: fix.longitude,
      latitude: fix.latitude,
      accuracy: fix.accuracy,
      at: new Date(now + clockOffset).toISOString(),
    });
    keep(fixes);
    recorded = { longitude: fix.longitude, latitude: fix.latitude, at: now };
    showKept();
    sendKept();
  }

  function retryLater() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(sendKept, RETRY_MS[Math.min(retries, RETRY_MS.length - 1)]);
    retries += 1;
  }

  function learnClock(response) {
    var date = Date.parse(response.headers.get("Date") || "");
    if (isFinite(date)) clockOffset = date - Date.now();
  }

  function sendKept() {
    var fixes = kept();
    if (sending || !positionsUrl || !fixes.length) return;
    sending = true;
    clearTimeout(retryTimer);
    var fix = fixes[0];
    var body = { longitude: fix.longitude, latitude: fix.latitude, at: fix.at };
    if (typeof fix.accuracy === "number" && isFinite(fix.accuracy)) body.accuracy_m = fix.accuracy;
    fetch(positionsUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    })
      .then(function (response) {
        sending = false;
        learnClock(response);
        if (response.ok || response.status === 400) {
          // Taken (or dropped as too soon or older), or refused (a GPS jump): next one.
          keep(kept().filter(function (other) { return other.at !== fix.at; }));
          retries = 0;
          geoStatus(text(response.ok ? "geo-sent" : "geo-refused"));
          showKept();
          sendKept();
        } else if (response.status === 401 || response.status === 403) {
          stopWatching();
        } else {
          retryLater();  // the server's fault: the fixes wait
        }
      })
      .catch(function () {
        sending = false;
        showKept();
        retryLater();  // offline: the fixes wait, in order
      });
  }

  window.addEventListener("online", function () { retries = 0; sendKept(); });
  window.addEventListener("offline", showKept);

  function onFix(position) {
    var coords = position.coords;
    latest = { longitude: coords.longitude, latitude: coords.latitude, accuracy: coords.accuracy };
    if (isDue(latest, Date.now())) record(latest);
  }

  function onGeoError(error) {
    geoStatus(error && error.code === 1 ? text("geo-denied") : text("geo-unavailable"));
  }

  function startWatching() {
    if (watchId !== null) return;
    // Browsers give positions to secure pages only (https, or this machine).
    if (!navigator.geolocation || window.isSecureContext === false) {
      geoStatus(text("geo-unavailable"));
      return;
    }
    try {
      watchId = navigator.geolocation.watchPosition(onFix, onGeoError, {
        enableHighAccuracy: true,
        maximumAge: 5000,
        timeout: 30000,
      });
    } catch (error) {
      watchId = null;
      geoStatus(text("geo-unavailable"));
      return;
    }
    geoStatus(text("geo-on"));
    heartbeat = setInterval(function () {
      if (latest && (!recorded || Date.now() - recorded.at >= HEARTBEAT_MS)) record(latest);
    }, HEARTBEAT_MS / 2);
    sendKept();  // what a tunnel kept before the page was opened again
  }

  function stopWatching() {
    if (watchId !== null) {
      try { navigator.geolocation.clearWatch(watchId); } catch (error) { /* gone already */ }
    }
    watchId = null;
    clearInterval(heartbeat);
    heartbeat = null;
    latest = null;
    recorded = null;
    geoMessage = "";
  }

  function syncPositions() {
    if (isOnShift()) {
      startWatching();
      geoStatus("");
    } else {
      stopWatching();
    }
  }

  afterSwap();
})();
