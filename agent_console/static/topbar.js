// The top bar: choosing a language sends its form at once (no inline handlers: the CSP forbids them).
(function () {
  "use strict";
  document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
}());
// The top bar's page groups (Supervision, Administration): a click elsewhere or Escape closes them.
(function () {
  "use strict";
  var groups = document.querySelectorAll(".topbar details.menu-group");
  function closeAll(except) {
    groups.forEach(function (group) { if (group !== except) { group.open = false; } });
  }
  document.addEventListener("click", function (event) {
    var inside = event.target.closest ? event.target.closest("details.menu-group") : null;
    closeAll(inside);
  });
  document.addEventListener("keydown", function (event) { if (event.key === "Escape") { closeAll(null); } });
}());
