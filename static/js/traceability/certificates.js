/* The certificate form: the test record is asked for only when the chosen basis is a test
 * (the fieldset's data-needed-by lists those bases). Without JavaScript it stays shown. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-certificate-form]");
  if (!form) {
    return;
  }
  var record = form.querySelector("[data-test-record]");
  if (!record) {
    return;
  }
  var needing = (record.getAttribute("data-needed-by") || "").split(" ");

  function update() {
    var chosen = form.querySelector("input[name=basis]:checked");
    record.hidden = !(chosen && needing.indexOf(chosen.value) >= 0);
  }

  form.addEventListener("change", function (event) {
    if (event.target && event.target.name === "basis") {
      update();
    }
  });
  update();
})();
