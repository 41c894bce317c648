/* Behaviour the pages ask for with data- attributes, as the Content-Security-Policy allows no
   inline handlers:
 *  - select[data-submit-on-change]: choosing an option submits its form (the language, the
 *    warehouse); a <noscript> button or the page's own button does it without JavaScript.
 */
(function () {
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.matches && select.matches("select[data-submit-on-change]") && select.form) {
      select.form.submit();
    }
  });
})();
