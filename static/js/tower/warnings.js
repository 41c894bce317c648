/* The risk warnings panel (templates/controltower/_warnings_list.html), live, no framework.
 *
 * Listens on ws(s)://host/ws/tower/warnings/ (admins and regulators). Each event
 * ({"type": "warning" | "warning.updated" | "warning.resolved", "payload": warning}) has the
 * panel fetched again from its data-panel-url, so what it shows is what the server renders,
 * in the reader's language. The socket reconnects with backoff (1 s doubling to 30 s), pings
 * every 25 s, and refetches after a reconnect (events may have been missed). The panel's
 * data-live says "open" or "closed"; data-last-event names the last warning heard of.
 */
(function () {
  "use strict";
  var panel = document.getElementById("risk-warnings");
  if (!panel || panel.getAttribute("data-started")) return;
  panel.setAttribute("data-started", "true");
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var url = scheme + location.host + panel.getAttribute("data-socket-path");
  var delay = 1000;
  var pinger = null;
  var connectedOnce = false;

  function refetch(lastEvent) {
    // ?back=: the panel's acknowledge buttons return to this page, not to the bare panel.
    var back = encodeURIComponent(location.pathname + location.search);
    return fetch(panel.getAttribute("data-panel-url") + "?back=" + back, {
      credentials: "same-origin",
      headers: { "X-Requested-With": "warnings.js" },
    })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("risk-warnings");
        if (fresh) panel.innerHTML = fresh.innerHTML;
        if (lastEvent) panel.setAttribute("data-last-event", lastEvent);
      })
      .catch(function () { /* the next event or reconnect tries again */ });
  }

  function connect() {
    var socket;
    try { socket = new WebSocket(url); } catch (error) { return retry(); }
    socket.onopen = function () {
      delay = 1000;
      panel.setAttribute("data-live", "open");
      if (connectedOnce) refetch(null);
      connectedOnce = true;
      pinger = setInterval(function () {
        if (socket.readyState === WebSocket.OPEN) socket.send('{"type":"ping"}');
      }, 25000);
    };
    socket.onmessage = function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (error) { return; }
      if (!event || !event.payload || event.type === "pong") return;
      refetch(event.type + ":" + event.payload.id);
      // On the tower's screen, its counters and map follow at once (static/js/controltower).
      document.dispatchEvent(new Event("tower:refresh"));
    };
    socket.onclose = function (closed) {
      clearInterval(pinger);
      panel.setAttribute("data-live", "closed");
      if (closed.code === 4401 || closed.code === 4403) return; // signed out, or not allowed
      retry();
    };
  }

  function retry() {
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, 30000);
  }

  connect();
})();
