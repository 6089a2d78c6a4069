/* The agent's live queue: Server-Sent Events from /console/stream, polling when they are down,
   wait times ticking every second, and "Take" that opens the call screen at once.
   Plain JS, no library: the console must work on a locked-down office PC with no CDN. */
(function () {
  "use strict";

  var root = document.getElementById("queue");
  if (!root) { return; }

  var strings = JSON.parse(document.getElementById("console-strings").textContent);
  var csrfToken = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var rows = document.getElementById("queue-rows");
  var empty = document.getElementById("queue-empty");
  var count = document.getElementById("queue-count");
  var liveStatus = document.getElementById("live-status");
  var liveDown = document.getElementById("live-down");
  var takeMessage = document.getElementById("take-message");

  var POLL_MS = 4000;          // while the stream is down
  var SAFETY_POLL_MS = 60000;  // even when live: a missed event heals within a minute
  var RETRY_STREAM_MS = 15000; // how soon a refused stream is tried again

  var clockOffset = 0;  // server time minus this browser's time, so waits are right on a wrong clock
  var calls = [];
  var source = null;
  var pollTimer = null;
  var retryTimer = null;
  var taking = false;

  // --- rendering -------------------------------------------------------------------

  function formatWait(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  function waitSeconds(call) {
    return (Date.now() + clockOffset - Date.parse(call.queued_at)) / 1000;
  }

  function formatDate(iso) {  // 2024-03-15 -> 15/03/2024, as letters are dated in the office
    var parts = (iso || "").split("-");
    return parts.length === 3 ? parts[2] + "/" + parts[1] + "/" + parts[0] : "";
  }

  function cell(row, className) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    row.appendChild(td);
    return td;
  }

  function span(text, className, dir) {
    var el = document.createElement("span");
    el.textContent = text;
    if (className) { el.className = className; }
    if (dir) { el.setAttribute("dir", dir); }
    return el;
  }

  function foundBadge(found) {
    if (found === true) { return span(strings.found, "badge good"); }
    if (found === false) { return span(strings.not_found, "badge bad"); }
    return span(strings.not_looked_up, "muted");
  }

  function renderRow(call) {
    var tr = document.createElement("tr");
    tr.dataset.callId = String(call.id);
    var wait = cell(tr, "wait num");
    wait.appendChild(span(formatWait(waitSeconds(call)), "wait-time"));

    var caller = cell(tr, "caller");
    caller.appendChild(call.withheld ? span(strings.withheld, "muted") : span(call.caller, "num", "ltr"));

    cell(tr, "language").textContent = strings.languages[call.language] || "—";

    var asked = cell(tr, "asked");
    if (call.asked_number) {
      asked.appendChild(span(call.asked_number, "num letter-number", "ltr"));
      if (call.asked_date) {
        asked.appendChild(span(" · ", "muted"));
        asked.appendChild(span(formatDate(call.asked_date), "num", "ltr"));
      }
    } else {
      asked.appendChild(span("—", "muted"));
    }

    cell(tr, "found").appendChild(foundBadge(call.found));

    var action = cell(tr, "actions");
    if (root.dataset.mode === "offer") {  // routing by offer: the banner offers a caller to one agent
      if (call.offered) { action.appendChild(span(strings.offered_elsewhere, "muted small")); }
      return tr;
    }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "take";
    button.textContent = strings.take;
    button.dataset.callId = String(call.id);
    if (root.dataset.busy) {
      button.disabled = true;
      button.title = strings.busy || "";
    }
    button.addEventListener("click", function () { take(call.id, button); });
    action.appendChild(button);
    return tr;
  }

  function render(snapshot) {
    clockOffset = Date.parse(snapshot.now) - Date.now();
    calls = snapshot.calls || [];
    var fragment = document.createDocumentFragment();
    calls.forEach(function (call) { fragment.appendChild(renderRow(call)); });
    rows.replaceChildren(fragment);
    count.textContent = String(calls.length);
    empty.hidden = calls.length > 0;
    tick();
  }

  function tick() {
    var byId = {};
    calls.forEach(function (call) { byId[call.id] = call; });
    rows.querySelectorAll("tr").forEach(function (tr) {
      var call = byId[tr.dataset.callId];
      if (!call) { return; }
      var seconds = waitSeconds(call);
      tr.querySelector(".wait-time").textContent = formatWait(seconds);
      tr.classList.toggle("waiting-long", seconds >= 30 && seconds < 120);
      tr.classList.toggle("waiting-too-long", seconds >= 120);
    });
  }

  // --- live updates, and polling when they are down ----------------------------------

  function setLive(state) {
    liveStatus.classList.remove("connecting", "down");
    if (state === "live") {
      liveStatus.textContent = strings.live;
    } else if (state === "signed_out") {
      liveStatus.classList.add("down");
      liveStatus.textContent = strings.signed_out_short;
    } else if (state === "down") {
      liveStatus.classList.add("down");
      liveStatus.textContent = strings.offline;  // the banner below says what it means
    } else {
      liveStatus.classList.add("connecting");
      liveStatus.textContent = strings.connecting;
    }
    liveStatus.dataset.state = state;
    liveDown.hidden = state !== "down";
  }

  function poll() {
    fetch(root.dataset.jsonUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (response.redirected || response.status === 401) { signedOut(); return null; }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (snapshot) { if (snapshot) { reachable(); render(snapshot); } })
      .catch(function () { showMessage(strings.no_connection); });
  }

  // The server answers again: "cannot reach the server" goes (a take's own message stays).
  function reachable() {
    if (takeMessage.textContent === strings.no_connection) { showMessage(""); }
  }

  // The session ended (deactivated, logged out elsewhere): say so, and stop asking.
  function signedOut() {
    stopPolling();
    window.clearTimeout(retryTimer);
    if (source) { source.close(); }
    setLive("signed_out");
    showMessage(strings.signed_out);
  }

  function startPolling(interval) {
    stopPolling();
    pollTimer = window.setInterval(poll, interval);
  }

  function stopPolling() {
    if (pollTimer) { window.clearInterval(pollTimer); pollTimer = null; }
  }

  function liveDownNow() {
    setLive("down");
    poll();
    startPolling(POLL_MS);
  }

  function connect() {
    if (!window.EventSource) { liveDownNow(); return; }
    if (source) { source.close(); }
    setLive("connecting");
    source = new EventSource(root.dataset.streamUrl);
    source.addEventListener("open", function () {
      reachable();
      setLive("live");
      startPolling(SAFETY_POLL_MS);
    });
    source.addEventListener("queue", function (event) {
      setLive("live");
      var data = JSON.parse(event.data);
      render(data);
      share(data);
    });
    ["offers", "agents"].forEach(function (name) {
      source.addEventListener(name, function (event) { share(JSON.parse(event.data)); });
    });
    source.addEventListener("down", function () { streamFailed(true); });
    // The session ended (logged out elsewhere, deactivated, new password): the page says so.
    source.addEventListener("ended", signedOut);
    source.addEventListener("error", function () {
      // CLOSED: the server refused the stream (503, broker down) or the session ended;
      // CONNECTING: EventSource is already retrying by itself. Either way, poll meanwhile.
      streamFailed(source.readyState === EventSource.CLOSED);
    });
  }

  // presence.js (the banner, the ring, offers) hears the stream through this page's one stream.
  function share(data) {
    document.dispatchEvent(new CustomEvent("console:live", {detail: data}));
  }

  function streamFailed(closed) {
    liveDownNow();
    if (closed) {
      source.close();
      window.clearTimeout(retryTimer);
      retryTimer = window.setTimeout(connect, RETRY_STREAM_MS);
    }
  }

  // --- taking a call -----------------------------------------------------------------

  function showMessage(text) {
    takeMessage.textContent = text;
    takeMessage.hidden = !text;
  }

  function take(callId, button) {
    if (taking) { return; }
    taking = true;
    showMessage("");
    button.disabled = true;
    button.textContent = strings.taking;
    var url = root.dataset.takeUrl.replace("/0/", "/" + callId + "/");
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"X-CSRFToken": csrfToken, "Accept": "application/json"}
    }).then(function (response) {
      return response.json().catch(function () { return {ok: false}; });
    }).then(function (answer) {
      if (answer.ok && answer.url) {
        // The browser phone (phone.js) answers by itself the call that now rings for this take.
        document.dispatchEvent(new CustomEvent("console:call-taken", {detail: {callId: callId}}));
        window.location.assign(answer.url);  // the caller's record, at once
        return;
      }
      taking = false;
      showMessage(answer.message || strings.take_failed);
      var row = rows.querySelector('tr[data-call-id="' + callId + '"]');
      if (row && (answer.reason === "taken" || answer.reason === "gone")) { row.remove(); }
      else { button.disabled = false; button.textContent = strings.take; }
      poll();
    }).catch(function () {
      taking = false;
      button.disabled = false;
      button.textContent = strings.take;
      showMessage(strings.no_connection);
    });
  }

  render(JSON.parse(document.getElementById("queue-data").textContent));
  window.setInterval(tick, 500);  // twice a second, so the shown second is never far behind
  connect();
  window.addEventListener("pagehide", function () { if (source) { source.close(); } });
}());
