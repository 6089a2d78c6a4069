// The top bar: choosing a language sends its form at once (no inline handlers: the CSP forbids them).
(function () {
  "use strict";
  document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
}());
