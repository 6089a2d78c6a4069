/* The supervisors' wallboard: snapshots over Server-Sent Events from /console/wallboard/stream,
   polling while the stream is down, and the longest wait ticking every second in between.
   Plain JS, no library, and no words of its own (they come from the page). */
(function () {
  "use strict";

  var root = document.getElementById("wallboard");
  if (!root) { return; }

  var strings = JSON.parse(document.getElementById("wallboard-strings").textContent);
  var liveStatus = document.getElementById("live-status");
  var liveDown = document.getElementById("live-down");
  var alertAfter = Number(root.dataset.alertAfter) || 30;

  var POLL_MS = 5000;           // while the stream is down
  var RETRY_STREAM_MS = 15000;  // how soon a refused stream is tried again

  var clockOffset = Date.parse(root.dataset.now) - Date.now();  // server time minus ours
  var longestSince = root.dataset.longestSince ? Date.parse(root.dataset.longestSince) : null;
  var source = null, pollTimer = null, retryTimer = null;
  var updatedAt = new Date();  // when the figures shown were counted (as this browser tells time)

  function setValue(name, text) {
    var element = root.querySelector('[data-value="' + name + '"]');
    if (element && element.textContent !== String(text)) { element.textContent = text; }
  }

  function formatWait(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + String(s).padStart(2, "0");
  }

  function tick() {
    var wait = longestSince === null ? 0 : (Date.now() + clockOffset - longestSince) / 1000;
    setValue("longest", formatWait(wait));
    var waiting = Number(root.querySelector('[data-value="waiting"]').textContent) || 0;
    var late = longestSince !== null && wait > alertAfter;
    document.getElementById("board-longest").classList.toggle("alert", late);
    document.getElementById("board-waiting").classList.toggle("alert", waiting > 0 && late);
    document.getElementById("board-waiting").classList.toggle("calm", waiting === 0);
  }

  function show(board) {
    clockOffset = Date.parse(board.now) - Date.now();
    longestSince = board.longest_since ? Date.parse(board.longest_since) : null;
    setValue("waiting", board.waiting);
    setValue("in_ivr", board.in_ivr);
    Object.keys(board.agents).forEach(function (name) { setValue(name, board.agents[name]); });
    updatedAt = new Date();
    root.dataset.updated = String(updatedAt.getTime());  // lets a test wait for the next snapshot
    tick();
    root.dispatchEvent(new CustomEvent("wallboard:updated"));  // wallboard_supervise.js reads its list again
  }

  function status(state) {
    liveStatus.className = "status-live " + state;
    liveStatus.textContent = strings[state === "down" ? "offline" : state];
    liveStatus.dataset.state = state;
    liveDown.hidden = state !== "down";  // says what "not live" means, and what happens instead
  }

  // --- polling while the stream is down ------------------------------------------------

  function clock(date) {
    return [date.getHours(), date.getMinutes(), date.getSeconds()].map(function (n) {
      return String(n).padStart(2, "0");
    }).join(":");
  }

  // The server does not answer: the figures are frozen, and the board says since when.
  function frozen(isFrozen) {
    liveDown.textContent = isFrozen ? strings.frozen.replace("{time}", clock(updatedAt)) : strings.down;
    liveDown.dataset.frozen = isFrozen ? "1" : "";
  }

  function poll() {
    fetch(root.dataset.jsonUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok && !response.redirected ? response.json() : null; })
      .then(function (board) { if (board) { show(board); frozen(false); } else { frozen(true); } })
      .catch(function () { frozen(true); });
  }

  function startPolling() {
    if (pollTimer === null) { poll(); pollTimer = setInterval(poll, POLL_MS); }
  }

  function stopPolling() {
    if (pollTimer !== null) { clearInterval(pollTimer); pollTimer = null; }
  }

  // --- the live stream ------------------------------------------------------------------

  function connect() {
    retryTimer = null;
    if (!window.EventSource) { status("down"); startPolling(); return; }
    status("connecting");
    source = new EventSource(root.dataset.streamUrl);
    source.addEventListener("open", function () { status("live"); stopPolling(); });
    source.addEventListener("wallboard", function (event) {
      status("live");
      stopPolling();
      show(JSON.parse(event.data));
    });
    source.addEventListener("down", function () { failed(true); });
    // The session ended (logged out elsewhere, deactivated, new password): to the login page.
    source.addEventListener("ended", function () { source.close(); window.location.reload(); });
    source.addEventListener("error", function () { failed(source.readyState === EventSource.CLOSED); });
  }

  function failed(closed) {
    status("down");
    startPolling();
    if (closed && source) {
      source.close();
      source = null;
      if (retryTimer === null) { retryTimer = setTimeout(connect, RETRY_STREAM_MS); }
    }
  }

  setInterval(tick, 1000);
  tick();
  connect();
  window.addEventListener("pagehide", function () { if (source) { source.close(); } });
})();
