/* The public trace page's one optional script: with the reader's consent, send the page's
 * rough location (rounded to 0.1° here already) so that a copied label shows up. */
(function () {
  "use strict";
  var box = document.getElementById("trace-location");
  if (!box || !navigator.geolocation || !window.fetch) return;
  box.hidden = false;
  var button = document.getElementById("trace-share-location");
  button.addEventListener("click", function () {
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        var round = function (value) { return Math.round(value * 10) / 10; };
        fetch(box.getAttribute("data-url"), {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          credentials: "omit",
          body: JSON.stringify({
            scan: box.getAttribute("data-scan"),
            longitude: round(position.coords.longitude),
            latitude: round(position.coords.latitude),
          }),
        }).then(function () {
          button.hidden = true;
          document.getElementById("trace-location-done").hidden = false;
        });
      },
      function () { button.disabled = false; },
      { enableHighAccuracy: false, maximumAge: 600000, timeout: 10000 }
    );
  });
})();
