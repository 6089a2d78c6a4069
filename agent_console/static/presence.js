/* On every agent page: the heartbeat that keeps the agent present, and a waiting caller that
   can't be missed (a banner, a count in the tab title, a ring, a desktop notification), the
   caller offered to this agent with Accept, and the keyboard shortcuts.
   The live stream's events come from console.js on the queue page (as "console:live" DOM
   events) and from a stream of this script's own elsewhere; the heartbeat's answer is the
   fallback when the stream is down. Plain JS, no library, no inline handlers (CSP). */
(function () {
  "use strict";

  var configNode = document.getElementById("presence-config");
  if (!configNode) { return; }
  var config = JSON.parse(configNode.textContent);
  var strings = config.strings;
  var csrfToken = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var banner = document.getElementById("waiting-banner");
  var waitingText = document.getElementById("waiting-text");
  var offerCaller = document.getElementById("offer-caller");
  var offerLeft = document.getElementById("offer-left");
  var acceptButton = document.getElementById("offer-accept");
  var allowNotify = document.getElementById("allow-notify");
  var ring = document.getElementById("ring");
  var baseTitle = document.title;
  var FOCUS_KEY = "hotline.focus-main";
  var RING_EVERY_MS = 4000;

  var clockOffset = 0;     // server time minus this browser's
  var waiting = 0;
  var offer = null;        // {id, caller, language, expires_at, ...} of the caller offered to me
  var lastRingAt = 0;
  var accepting = false;
  var heartbeatTimer = null;

  function format(text, values) {
    return text.replace(/%\((\w+)\)[sd]/g, function (_match, name) { return String(values[name]); });
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"X-CSRFToken": csrfToken, "Accept": "application/json"},
      body: body || null
    });
  }

  // --- the ring, the title, the notification --------------------------------------------

  function playRing() {
    if (!ring) { return; }
    lastRingAt = Date.now();
    try {
      ring.currentTime = 0;
      var played = ring.play();
      var counted = function () { ring.dataset.rang = String(Number(ring.dataset.rang || 0) + 1); };
      if (played && played.then) { played.then(counted).catch(function () { /* not allowed yet */ }); }
      else { counted(); }
    } catch (error) { /* a browser without audio */ }
  }

  function notify(body) {
    if (!("Notification" in window) || Notification.permission !== "granted") { return; }
    if (!document.hidden) { return; }  // the banner and the ring say it already
    try {
      var note = new Notification(strings.notify_title, {body: body, tag: "hotline-waiting"});
      note.onclick = function () { window.focus(); note.close(); };
    } catch (error) { /* e.g. a browser that wants a service worker */ }
  }

  function offerSecondsLeft() {
    if (!offer) { return 0; }
    return Math.max(0, Math.ceil((Date.parse(offer.expires_at) - (Date.now() + clockOffset)) / 1000));
  }

  function callerText(call) {
    var who = call.withheld ? strings.withheld : call.caller;
    var language = strings.languages[call.language];
    return language ? who + " · " + language : who;
  }

  function render() {
    var count = waiting;
    document.title = count > 0 || offer ? "(" + Math.max(count, offer ? 1 : 0) + ") " + baseTitle : baseTitle;
    banner.hidden = !(count > 0 || offer);
    banner.classList.toggle("offer", !!offer);
    banner.dataset.waiting = String(count);
    if (offer) {
      waitingText.textContent = strings.offer;
      offerCaller.textContent = callerText(offer);
      offerCaller.setAttribute("dir", "auto");
      offerLeft.textContent = format(strings.seconds_left, {seconds: offerSecondsLeft()});
    } else if (count > 0) {
      waitingText.textContent = format(strings.waiting, {num: count});
    }
    offerCaller.hidden = offerLeft.hidden = acceptButton.hidden = !offer;
    if (!accepting) { acceptButton.disabled = false; }
    allowNotify.hidden = !(("Notification" in window) && Notification.permission === "default" && (count > 0 || offer));
  }

  function setWaiting(count) {
    var more = count > waiting;
    waiting = count;
    // In list mode every agent is rung for a new caller; in offer mode only the one offered.
    if (more && config.mode === "list") {
      playRing();
      notify(format(strings.waiting, {num: count}));
    }
    render();
  }

  function setOffer(next) {
    var isNew = next && (!offer || offer.id !== next.id);
    offer = next;
    if (isNew) {
      playRing();
      notify(strings.offer + ": " + callerText(next));
    }
    render();
  }

  // --- the heartbeat -----------------------------------------------------------------------

  function showState(state) {
    var badge = document.getElementById("my-presence");
    if (badge && state) {
      badge.textContent = state.label;
      badge.className = "badge " + ({available: "good", on_call: "warn", wrap_up: "warn", offline: "bad"}[state.presence] || "");
    }
  }

  function heartbeat() {
    window.clearTimeout(heartbeatTimer);
    heartbeatTimer = window.setTimeout(heartbeat, config.heartbeat_s * 1000);
    return post(config.heartbeat_url).then(function (response) {
      if (response.redirected || response.status === 401 || response.status === 403) {
        window.location.reload();  // signed out (elsewhere, or by a supervisor): the login page
        return;
      }
      if (!response.ok) { return; }
      return response.json().then(function (data) {
        clockOffset = Date.parse(data.now) - Date.now();
        showState(data.state);
        setOffer(data.offer);
        setWaiting(data.waiting);
      });
    }).catch(function () { /* the next beat tries again */ });
  }

  // --- accepting an offer ------------------------------------------------------------------

  function accept() {
    if (!offer || accepting) { return; }
    accepting = true;
    acceptButton.disabled = true;
    acceptButton.firstChild.textContent = strings.accepting + " ";
    var callId = offer.id;
    post(config.take_url.replace("/0/", "/" + callId + "/")).then(function (response) {
      return response.json().catch(function () { return {ok: false}; });
    }).then(function (answer) {
      if (answer.ok && answer.url) {
        document.dispatchEvent(new CustomEvent("console:call-taken", {detail: {callId: callId}}));
        window.location.assign(answer.url);
        return;
      }
      accepting = false;
      acceptButton.firstChild.textContent = strings.accept + " ";
      offer = null;
      waitingText.textContent = answer.message || strings.offer_gone;
      heartbeat();
    }).catch(function () {
      accepting = false;
      acceptButton.firstChild.textContent = strings.accept + " ";
      acceptButton.disabled = false;
    });
  }

  acceptButton.addEventListener("click", accept);
  allowNotify.addEventListener("click", function () {
    if ("Notification" in window) { Notification.requestPermission().then(render); }
  });

  // After a take, the call screen opens with its main action focused, not 9 Tabs away.
  document.addEventListener("console:call-taken", function () {
    try { window.sessionStorage.setItem(FOCUS_KEY, "1"); } catch (error) { /* private mode */ }
  });
  try {
    if (window.sessionStorage.getItem(FOCUS_KEY)) {
      var main = document.querySelector("select[name='disposition'], #wrap-up");
      if (main) { window.sessionStorage.removeItem(FOCUS_KEY); main.focus(); }
    }
  } catch (error) { /* private mode */ }

  // --- keyboard ------------------------------------------------------------------------------

  function choose(value) {
    var button = document.querySelector('#presence-form button[value="' + value + '"]');
    if (button) { button.click(); return; }
    var body = new FormData();
    body.append("presence", value);
    post(config.presence_url, body).then(function (response) {
      return response.json();
    }).then(function (answer) { showState(answer.state); }).catch(function () {});
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.repeat) { return; }
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) { return; }
    var key = (event.key || "").toLowerCase();
    if (key === "a" && offer) { event.preventDefault(); accept(); }
    else if (key === "v") { event.preventDefault(); choose("available"); }
    else if (key === "b") {
      var away = document.querySelector('#presence-form button[data-shortcut="b"]');
      event.preventDefault();
      choose(away ? away.value : "away");
    } else if (key === "w") {
      var wrap = document.getElementById("wrap-up");
      if (wrap) { event.preventDefault(); wrap.click(); }
    }
  });

  // --- live events ---------------------------------------------------------------------------

  function onMessage(data) {
    if (!data || !data.type) { return; }
    if (data.type === "queue") { setWaiting(data.waiting || 0); }
    else if (data.type === "offers") {
      // Someone's offer was made or ended: mine, or one I hold that may have gone.
      if (offer || (data.agents || []).indexOf(config.me) !== -1) { heartbeat(); }
    }
  }

  document.addEventListener("console:live", function (event) { onMessage(event.detail); });

  if (!document.getElementById("queue") && window.EventSource) {
    // Not the queue page (whose console.js holds the stream): a stream of our own.
    var source = new EventSource(config.stream_url);
    ["queue", "offers", "agents"].forEach(function (name) {
      source.addEventListener(name, function (event) {
        document.dispatchEvent(new CustomEvent("console:live", {detail: JSON.parse(event.data)}));
      });
    });
    source.addEventListener("ended", function () { source.close(); window.location.reload(); });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  window.setInterval(function () {
    if (offer) {
      if (offerSecondsLeft() <= 0) { offer = null; render(); heartbeat(); return; }
      if (Date.now() - lastRingAt >= RING_EVERY_MS) { playRing(); }
      render();
    }
  }, 500);
  heartbeat();
}());
