/* The Agents page kept live: each agent's state and the time in it, redrawn on every "agents"
   event of the live stream (heard through presence.js) and at least every 30 s, ticking each
   second. Times are written in the centre's time zone (TIMEZONE, the page's data-timezone),
   as the server writes them, whatever the browser's own. Plain JS, no inline handlers (CSP). */
(function () {
  "use strict";

  var root = document.getElementById("agents-live");
  if (!root) { return; }
  var TONES = {available: "good", on_call: "warn", wrap_up: "warn", offline: "bad"};
  var clockOffset = 0;
  var centreTime = null;
  try {
    centreTime = new Intl.DateTimeFormat("en-GB", {
      timeZone: root.dataset.timezone || undefined, hourCycle: "h23",
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"
    });
  } catch (error) { /* a time zone this browser does not know: the browser's own */
    centreTime = new Intl.DateTimeFormat("en-GB", {
      hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"
    });
  }

  function when(iso) {  // dd/MM/yyyy HH:mm in the centre's time zone
    var parts = {};
    centreTime.formatToParts(new Date(iso)).forEach(function (part) { parts[part.type] = part.value; });
    return parts.day + "/" + parts.month + "/" + parts.year + " " + parts.hour + ":" + parts.minute;
  }

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
            since.textContent = when(agent.since);
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
