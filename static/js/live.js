/* Live events of the signed-in user over ws(s)://host/ws/me/, with no framework.
 *
 * Each event is {"type": kind, "payload": notification}. On one:
 *  - the top bar's badge [data-live-badge] counts one more unread notification;
 *  - every element with data-live-refresh="url" whose data-live-events lists the kind
 *    (or "*") is fetched again and its contents replaced: the whole response, or the
 *    element matching data-live-select in it; data-live-order-id limits it to that order.
 * Every event is also dispatched on document as a "live:event" CustomEvent (detail: the
 * event), for pages that move a marker or start a countdown. Events marked quiet
 * (payload.quiet, e.g. a courier's position) update screens but are not notifications.
 * The socket reconnects with exponential backoff (1 s doubling to 30 s) and pings every
 * 25 s so proxies keep it open. After a reconnect the lists are refetched: events may
 * have been missed while offline.
 */
(function () {
  "use strict";
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var url = scheme + location.host + "/ws/me/";
  var delay = 1000;
  var pinger = null;
  var connectedOnce = false;

  function bumpBadge() {
    var count = document.querySelector("[data-live-badge] .count");
    if (!count) return;
    count.textContent = String((parseInt(count.textContent, 10) || 0) + 1);
    count.hidden = false;
  }

  function refresh(element) {
    var select = element.getAttribute("data-live-select");
    return fetch(element.getAttribute("data-live-refresh"), {
      credentials: "same-origin",
      headers: { "X-Requested-With": "live.js" },
    })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        if (!select) { element.innerHTML = html; return; }
        var found = new DOMParser().parseFromString(html, "text/html").querySelector(select);
        if (found) element.innerHTML = found.innerHTML;
      })
      .then(function () { element.setAttribute("data-live-updated", String(Date.now())); })
      .catch(function () { /* the next event or reconnect tries again */ });
  }

  function concerns(element, event) {
    var kinds = (element.getAttribute("data-live-events") || "").split(/\s+/);
    if (kinds.indexOf("*") < 0 && kinds.indexOf(event.type) < 0) return false;
    var orderId = element.getAttribute("data-live-order-id");
    // A notification carries its data one level down; delivery's quiet events carry it at the top.
    var payload = event.payload || {};
    var data = payload.payload || payload;
    return !orderId || String(data.order_id) === orderId;
  }

  function refreshAll(event) {
    document.querySelectorAll("[data-live-refresh]").forEach(function (element) {
      if (!event || concerns(element, event)) refresh(element);
    });
  }

  function connect() {
    var socket;
    try { socket = new WebSocket(url); } catch (error) { return retry(); }
    socket.onopen = function () {
      delay = 1000;
      document.documentElement.setAttribute("data-live", "open");
      if (connectedOnce) {
        refreshAll(null);
        document.dispatchEvent(new CustomEvent("live:reconnected"));
      }
      connectedOnce = true;
      pinger = setInterval(function () {
        if (socket.readyState === WebSocket.OPEN) socket.send('{"type":"ping"}');
      }, 25000);
    };
    socket.onmessage = function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (error) { return; }
      if (!event || !event.type || event.type === "pong" || event.type === "error") return;
      if (!(event.payload && event.payload.quiet)) bumpBadge();
      document.dispatchEvent(new CustomEvent("live:event", { detail: event }));
      refreshAll(event);
    };
    socket.onclose = function (close) {
      document.documentElement.setAttribute("data-live", "closed");
      clearInterval(pinger);
      if (close.code !== 4401) retry();  // 4401: signed out, nothing to listen to
    };
  }

  function retry() {
    setTimeout(connect, delay + Math.random() * 500);
    delay = Math.min(delay * 2, 30000);
  }

  connect();
})();
