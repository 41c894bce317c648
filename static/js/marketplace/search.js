/* "Use my location": fill the hidden lon/lat from the phone, then search. The messages come
   translated in the form's data-finding / data-unavailable attributes. */
(function () {
  var form = document.querySelector("[data-search-form]");
  if (!form) return;
  var button = form.querySelector("[data-use-location]");
  var status = form.querySelector("[data-location-status]");
  if (!navigator.geolocation) { button.hidden = true; return; }
  button.addEventListener("click", function () {
    status.textContent = form.getAttribute("data-finding");
    navigator.geolocation.getCurrentPosition(function (position) {
      form.elements.lon.value = position.coords.longitude.toFixed(5);
      form.elements.lat.value = position.coords.latitude.toFixed(5);
      form.elements.city.value = "";
      form.submit();
    }, function () {
      status.textContent = form.getAttribute("data-unavailable");
    }, { timeout: 10000, maximumAge: 600000 });
  });
  form.elements.city.addEventListener("change", function () {
    form.elements.lon.value = ""; form.elements.lat.value = "";
  });
})();
