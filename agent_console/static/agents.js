/* The Agents page kept live: each agent's state and the time in it, redrawn on every "agents"
   event of the live stream (heard through presence.js) and at least every 30 s, ticking each
   second. Plain JS, no inline handlers (CSP). */
(function () {
  "use strict";

  var root = document.getElementById("agents-live");
  if (!root) { return; }
  var TONES = {available: "good", on_call: "warn", wrap_up: "warn", offline: "bad"};
  var clockOffset = 0;

  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return h + ":" + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
  }

  function tick() {
    root.querySelectorAll("[data-field='since']").forEach(function (since) {
      var row = since.closest("tr");
      var shown = row && row.querySelector("[data-field='for']");
      var at = Date.parse(since.dataset.since);
      if (shown && !isNaN(at)) { shown.textContent = clock((Date.now() + clockOffset - at) / 1000); }
    });
  }

  function refresh() {
    fetch(root.dataset.jsonUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok || response.redirected) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        clockOffset = Date.parse(data.now) - Date.now();
        data.agents.forEach(function (agent) {
          var row = root.querySelector('tr[data-user-id="' + agent.id + '"]');
          if (!row) { return; }
          var badge = row.querySelector("[data-field='state']");
          if (badge) {
            badge.textContent = agent.label;
            badge.className = "badge " + (TONES[agent.presence] || "");
            badge.dataset.presence = agent.presence;
          }
          var since = row.querySelector("[data-field='since']");
          if (since && agent.since) {
            since.dataset.since = agent.since;
            var local = new Date(agent.since);
            since.textContent = String(local.getDate()).padStart(2, "0") + "/" + String(local.getMonth() + 1).padStart(2, "0") +
              "/" + local.getFullYear() + " " + String(local.getHours()).padStart(2, "0") + ":" + String(local.getMinutes()).padStart(2, "0");
          }
        });
        tick();
      })
      .catch(function () { /* the next event or the next half-minute tries again */ });
  }

  document.addEventListener("console:live", function (event) {
    if (event.detail && event.detail.type === "agents") { refresh(); }
  });
  window.setInterval(tick, 1000);
  window.setInterval(refresh, 30000);
  refresh();
}());
