// Imports page: poll each running import's status JSON and move its progress bar.
(function () {
  "use strict";
  var POLL_MS = 1000;
  function running(row) {
    var state = row.getAttribute("data-state");
    return state === "pending" || state === "running";
  }
  function update(row, data) {
    row.setAttribute("data-state", data.state);
    ["state", "processed", "total_lines", "added", "updated", "unchanged", "rejected"].forEach(function (name) {
      var cell = row.querySelector('[data-field="' + name + '"]');
      if (cell) cell.textContent = data[name];
    });
    var bar = row.querySelector("progress");
    if (bar) { bar.max = data.total_lines || 1; bar.value = data.processed; }
    var pace = row.querySelector('[data-field="pace"]');
    if (pace) {
      pace.textContent = data.rows_per_second
        ? pace.getAttribute("data-pattern").replace("{rate}", data.rows_per_second).replace("{time}", data.time_left)
        : "";
    }
  }
  function poll() {
    var rows = Array.prototype.filter.call(document.querySelectorAll("tr[data-import]"), running);
    if (!rows.length) return;
    rows.forEach(function (row) {
      fetch(row.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) update(row, data); })
        .catch(function () { /* the next poll tries again */ });
    });
    window.setTimeout(poll, POLL_MS);
  }
  poll();
})();
