/* Minutes left move with the clock, not only with events: fetch the lists again each
   minute (live.js refetches them at once when an order moves). */
(function () {
  var box = document.getElementById("warehouse-live");
  if (!box) return;
  setInterval(function () {
    if (document.hidden) return;
    fetch(box.getAttribute("data-live-refresh"), { credentials: "same-origin", headers: { "X-Requested-With": "live.js" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () {});
  }, 60000);
})();
