/* The live call screen: its state (ringing, connected, ended, your phone did not answer) from
   /console/calls/<id>/stream as the IVR reports it, read every few seconds while the stream is
   down, and a talk timer from the answer to the hang-up. Plain JS, like the rest of the console. */
(function () {
  "use strict";

  var dataEl = document.getElementById("call-live-data");
  if (!dataEl) { return; }
  var data = JSON.parse(dataEl.textContent);
  var badge = document.getElementById("call-state");
  var timer = document.getElementById("talk-timer");
  var message = document.getElementById("call-state-message");
  var page = document.getElementById("call-page");
  var supervision = document.getElementById("call-supervision");

  var POLL_MS = 3000;          // while the stream is down
  var SAFETY_POLL_MS = 30000;  // even when live: a missed event heals within half a minute
  var RETRY_STREAM_MS = 5000;  // how soon a refused stream is tried again

  var state = data.state;
  var clockOffset = 0;
  var source = null;
  var pollTimer = null;
  var retryTimer = null;
  var smsTimer = null;

  function formatTime(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + String(s).padStart(2, "0");
  }

  function tick() {
    if (!state.answered_at) { timer.hidden = true; return; }
    var end = state.ended_at ? Date.parse(state.ended_at) : Date.now() + clockOffset;
    timer.textContent = formatTime((end - Date.parse(state.answered_at)) / 1000);
    timer.hidden = false;
  }

  function show(fresh) {
    clockOffset = Date.parse(fresh.now) - Date.now();
    state = fresh;
    badge.className = "badge state-" + fresh.state;
    badge.dataset.state = fresh.state;
    badge.textContent = fresh.label;
    message.textContent = fresh.message || "";
    message.hidden = !fresh.message;
    message.classList.toggle("warning", fresh.state === "missed");
    if (page) { page.hidden = fresh.state === "missed"; }
    if (supervision) {  // a supervisor whispering to the agent, or heard by the caller too
      supervision.textContent = fresh.supervision || "";
      supervision.hidden = !fresh.supervision;
    }
    showSms(fresh.sms || {});
    tick();
  }

  function showSms(results) {  // each SMS as the outbox has it: waiting, sent, delivered, not sent and why
    var pending = false;
    Object.keys(results).forEach(function (letterId) {
      var result = results[letterId];
      var line = document.querySelector('[data-sms-for="' + letterId + '"]');
      if (!line) { return; }
      var badge = line.querySelector(".badge");
      badge.className = "badge " + (result.tone || "");
      badge.dataset.status = result.status;
      badge.textContent = result.words;
      line.querySelector(".reason").textContent = result.reason || "";
      line.hidden = false;
      if (!result.final) { pending = true; }
    });
    if (pending && !smsTimer) {
      smsTimer = window.setTimeout(function () { smsTimer = null; poll(); }, POLL_MS);
    }
  }

  function setNote(text) {  // a problem with the live updates, shown under the state
    var note = document.getElementById("call-live-note");
    if (!note) {
      note = document.createElement("p");
      note.id = "call-live-note";
      note.className = "muted small";
      message.parentNode.insertBefore(note, message.nextSibling);
    }
    note.textContent = text;
    note.hidden = !text;
  }

  function poll() {
    fetch(data.json_url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (response.redirected || !response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (fresh) {
        show(fresh);
        if (source === null && fresh.live) {  // the broker is back: live again, not in 15 s
          setNote("");
          window.clearTimeout(retryTimer);
          connect();
        } else if (source === null) {
          setNote(data.down);
        }
      })
      .catch(function () { setNote(data.unreachable); });
  }

  function startPolling(interval) {
    if (pollTimer) { window.clearInterval(pollTimer); }
    pollTimer = window.setInterval(poll, interval);
  }

  function connect() {
    if (!window.EventSource) { startPolling(POLL_MS); return; }
    if (source) { source.close(); }
    source = new EventSource(data.stream_url);
    source.addEventListener("open", function () { setNote(""); startPolling(SAFETY_POLL_MS); });
    source.addEventListener("state", function (event) { setNote(""); show(JSON.parse(event.data)); });
    source.addEventListener("down", function () { streamFailed(true); });
    source.addEventListener("ended", function () { source.close(); window.location.reload(); });
    source.addEventListener("error", function () { streamFailed(source.readyState === EventSource.CLOSED); });
  }

  function streamFailed(closed) {
    setNote(data.down);
    poll();
    startPolling(POLL_MS);
    if (closed && source) {
      source.close();
      source = null;
      window.clearTimeout(retryTimer);
      retryTimer = window.setTimeout(connect, RETRY_STREAM_MS);
    }
  }

  show(state);
  window.setInterval(tick, 500);
  connect();
  window.addEventListener("pagehide", function () { if (source) { source.close(); } });
}());
