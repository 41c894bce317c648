/* The operator's counter, with no framework.
 *
 *  - form[data-counter-form]: as the operator types, the form is sent (debounced) to its
 *    data-preview-url and the figures the server works out (names, net weight, amount,
 *    commissions, what the buyer pays, the card balance) fill [data-preview=name]. Display
 *    only: the trade is worked out again when it is recorded.
 *  - input[data-filter-options="#select"]: search-as-you-type over a select's options; the
 *    first match is chosen.
 *  - picking a seller from the list clears a typed seller card, and typing a card clears the
 *    pick, so the two never disagree.
 *  - form[data-once]: a second submit (double click, double tap) is ignored.
 *  - button[data-print]: prints the page (the receipt has its own print styles).
 */
(function () {
  "use strict";

  function debounce(action, wait) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(action, wait);
    };
  }

  function show(element, value) {
    if (value === null || value === undefined || value === "") {
      element.textContent = "–";
      return;
    }
    if (element.hasAttribute("data-money")) value = "¥" + value;
    var unit = element.getAttribute("data-unit");
    if (unit) value = value + " " + unit;
    element.textContent = value;
  }

  function setUpPreview(form) {
    var url = form.getAttribute("data-preview-url");
    var errors = document.querySelector("[data-preview-errors]");
    var sequence = 0;

    function refresh() {
      var params = new URLSearchParams();
      new FormData(form).forEach(function (value, name) {
        if (name !== "csrfmiddlewaretoken" && name !== "step" && name !== "idempotency_key") {
          params.append(name, value);
        }
      });
      var mine = ++sequence;
      fetch(url + "?" + params.toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
        .then(function (data) {
          if (mine !== sequence) return;  // an older answer arriving late
          document.querySelectorAll("[data-preview]").forEach(function (element) {
            show(element, data[element.getAttribute("data-preview")]);
          });
          if (!errors) return;
          errors.textContent = "";
          Object.keys(data.errors || {}).forEach(function (name) {
            var item = document.createElement("li");
            item.textContent = data.errors[name];
            item.setAttribute("data-preview-error", name);
            errors.appendChild(item);
          });
        })
        .catch(function () { /* the next keystroke tries again */ });
    }

    var later = debounce(refresh, 250);
    form.addEventListener("input", later);
    form.addEventListener("change", later);

    var card = form.querySelector("[name=seller_card]");
    var pick = form.querySelector("select[name=seller]");
    if (card && pick) {
      pick.addEventListener("change", function () { if (pick.value) card.value = ""; });
      card.addEventListener("input", function () { if (card.value) pick.value = ""; });
    }
    refresh();
  }

  function setUpFilter(input) {
    var select = document.querySelector(input.getAttribute("data-filter-options"));
    if (!select) return;
    input.addEventListener("input", function () {
      var words = input.value.trim().toLowerCase();
      var first = null;
      Array.prototype.forEach.call(select.options, function (option) {
        if (!option.value) return;
        var text = (option.textContent + " " + option.value).toLowerCase();
        var match = !words || text.indexOf(words) >= 0;
        option.hidden = !match;
        if (match && !first) first = option;
      });
      var chosen = select.options[select.selectedIndex];
      if (words && first && (!chosen || !chosen.value || chosen.hidden)) {
        select.value = first.value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  }

  function setUpOnce(form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sent")) {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-sent", "1");
    });
  }

  document.querySelectorAll("form[data-counter-form]").forEach(setUpPreview);
  document.querySelectorAll("[data-filter-options]").forEach(setUpFilter);
  document.querySelectorAll("form[data-once]").forEach(setUpOnce);
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  // Coming back to a page from the browser's history lets its forms be sent again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sent]").forEach(function (form) { form.removeAttribute("data-sent"); });
  });
})();
