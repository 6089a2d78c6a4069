/* The agent's browser phone: registers this tab with Twilio under the agent's Client identity
   (the Voice JS SDK, vendored in static/vendor/), so that the calls Twilio dials to
   <Client>identity</Client> ring here. Shows its state in the top bar; Answer, Mute, Hang up.

   A call the agent has just taken from the queue (console.js announces "console:call-taken",
   remembered in sessionStorage across the page change to the call screen) is answered at
   once; any other call rings until the agent answers. Every word comes from the page
   (data-strings), in the agent's language. Leaving the page ends a call, so while one is up:
   the browser asks before leaving (closeProtection), and forms marked data-during-call="stay"
   are sent in the background instead of reloading the page. */
(function () {
  "use strict";

  var root = document.getElementById("phone");
  if (!root || !root.dataset.tokenUrl) { return; }

  var strings = JSON.parse(root.dataset.strings);
  var label = document.getElementById("phone-label");
  var callStrip = document.getElementById("phone-call");
  var callerView = document.getElementById("phone-caller");
  var timerView = document.getElementById("phone-timer");
  var openLink = document.getElementById("phone-open");
  var answerButton = document.getElementById("phone-answer");
  var muteButton = document.getElementById("phone-mute");
  var hangUpButton = document.getElementById("phone-hangup");
  var notice = document.getElementById("phone-notice");
  var noticeText = document.getElementById("phone-notice-text");
  var micButton = document.getElementById("phone-mic");

  var TAKEN_KEY = "hotline.phone.taken";
  var AUTO_ANSWER_MS = 30000;   // a call arriving this soon after Take is the one taken
  var UNREACHABLE_MS = 15000;   // not registered by then: say that Twilio cannot be reached
  var TOKEN_RETRY_MS = 20000;

  var device = null;
  var call = null;          // the call ringing or in progress (one at a time)
  var connectedAt = 0;
  var tickTimer = null;
  var unreachableTimer = null;
  var pendingUrl = null;    // where a form sent during the call led: go there when it ends
  var pageTitle = document.title;
  var messages = {};        // what the notice line may say, by kind; the first kind set wins
  var MESSAGE_ORDER = ["fatal", "twilio", "call", "mic"];
  // Twilio error codes said in the agent's words (https://www.twilio.com/docs/api/errors).
  var EXPIRED_TOKEN = [20104, 31205];
  var REFUSED_TOKEN = [20101, 20102, 20103, 20105, 20106, 20107, 20151, 20157, 31202, 31204, 31206, 31207];
  var MICROPHONE = [31208, 31401, 31402];
  var UNREACHABLE = [31000, 31003, 31005, 31009, 53000, 53001, 53405];

  // --- showing things --------------------------------------------------------------------

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return values[name] !== undefined ? String(values[name]) : whole;
    });
  }

  function setState(state, text) {
    root.dataset.state = state;
    callStrip.dataset.state = state;
    label.textContent = text || strings[state] || state;
  }

  function say(kind, text, tone) {
    if (text) { messages[kind] = {text: text, tone: tone || "error"}; } else { delete messages[kind]; }
    var shown = null, shownKind = null;
    MESSAGE_ORDER.forEach(function (name) {
      if (!shown && messages[name]) { shown = messages[name]; shownKind = name; }
    });
    notice.hidden = !shown;
    notice.className = "phone-notice " + (shown ? shown.tone : "");
    noticeText.textContent = shown ? shown.text : "";
    micButton.hidden = !(shownKind === "mic" && shown.tone === "hint");
  }

  function fail(text) {  // nothing more can be done on this page
    setState("error");
    say("fatal", text);
  }

  function describe(error) {  // a Twilio error in the agent's words, with its code
    var code = Number(error.code) || 0;
    var text = null;
    if (REFUSED_TOKEN.indexOf(code) >= 0) { text = strings.token_refused; }
    else if (MICROPHONE.indexOf(code) >= 0) { text = strings.mic_denied; }
    else if (UNREACHABLE.indexOf(code) >= 0) { text = strings.unreachable; }
    if (text) { return text + " " + fill(strings.error_code, {code: code}); }
    var message = error.description || error.message || String(error);
    if (error.explanation && error.explanation !== message) { message += " " + error.explanation; }
    return fill(strings.twilio_error, {code: code || "?", message: message});
  }

  function twilioProblem(error) {  // the device's: stays until it registers again
    if (!error) { return; }
    if (EXPIRED_TOKEN.indexOf(Number(error.code)) >= 0) { fetchToken().then(renewed, tokenProblem); return; }
    if (!call) { setState("error"); }
    say("twilio", describe(error));
  }

  function sayForAWhile(kind, text, tone) {
    say(kind, text, tone);
    window.setTimeout(function () {
      if (messages[kind] && messages[kind].text === text) { say(kind, null); }
    }, 30000);
  }

  function show(element, visible) { element.hidden = !visible; }

  function showCaller(context) {
    callerView.replaceChildren();
    var template = context.kind === "callback" ? strings.callback_from : strings.call_from;
    var parts = template.split("{caller}");
    callerView.appendChild(document.createTextNode(parts[0]));
    var number = document.createElement("span");
    if (context.caller) {
      number.className = "num";
      number.setAttribute("dir", "ltr");
      number.textContent = context.caller;
    } else {
      number.textContent = strings.withheld;
    }
    callerView.appendChild(number);
    callerView.appendChild(document.createTextNode(parts.slice(1).join("{caller}")));
    show(callStrip, true);
    var target = context.callId ? root.dataset.callUrl.replace(/\/0$/, "/" + context.callId) : "";
    openLink.href = target || "#";
    show(openLink, Boolean(target) && target !== window.location.pathname);
  }

  function formatElapsed(seconds) {
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return m + ":" + String(s).padStart(2, "0");
  }

  function tick() {
    timerView.textContent = formatElapsed(Math.floor((Date.now() - connectedAt) / 1000));
  }

  function idle() {
    call = null;
    window.clearInterval(tickTimer);
    [callStrip, timerView, openLink, answerButton, muteButton, hangUpButton].forEach(function (el) { show(el, false); });
    document.title = pageTitle;
    if (device && device.state === "registered") { setState("ready"); } else { setState("connecting"); }
    if (pendingUrl) { window.location.assign(pendingUrl); }
  }

  // --- the access token --------------------------------------------------------------------

  function problem(message, retry) {
    var error = new Error(message);
    error.retry = retry;
    return error;
  }

  function fetchToken() {
    return fetch(root.dataset.tokenUrl, {
      credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}
    }).catch(function () {
      throw problem(strings.token_failed, true);
    }).then(function (response) {
      if (response.redirected) { throw problem(strings.session_ended, false); }  // to the login page
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok && body.token) { return body.token; }
        // 409 (calls ring elsewhere) and 503 (not configured) will not heal by retrying.
        var final = response.status === 409 || response.status === 503;
        throw problem(body.message || strings.token_failed, !final);
      });
    });
  }

  function tokenProblem(error) {
    if (error.retry) {
      say("fatal", null);
      say("twilio", error.message);
      if (!call) { setState("error"); }
      window.setTimeout(function () { fetchToken().then(renewed, tokenProblem); }, TOKEN_RETRY_MS);
    } else {
      fail(error.message);
    }
  }

  function renewed(token) {
    say("twilio", null);
    if (device) { device.updateToken(token); } else { startDevice(token); }
  }

  // --- the device ----------------------------------------------------------------------------

  function armUnreachable() {
    window.clearTimeout(unreachableTimer);
    unreachableTimer = window.setTimeout(function () {
      if (device && device.state !== "registered") {
        if (!call) { setState("error"); }
        if (!messages.twilio) { say("twilio", strings.unreachable); }
      }
    }, UNREACHABLE_MS);
  }

  function startDevice(token) {
    try {
      device = new window.Twilio.Device(token, {codecPreferences: ["opus", "pcmu"], closeProtection: true});
    } catch (error) {
      twilioProblem(error);
      return;
    }
    device.on("registering", function () { if (!call) { setState("connecting"); } });
    device.on("registered", function () {
      window.clearTimeout(unreachableTimer);
      say("twilio", null);
      if (!call) { setState("ready"); }
    });
    device.on("unregistered", function () {
      if (!call) { setState("connecting"); }
      armUnreachable();
    });
    device.on("error", function (error) { twilioProblem(error); });
    device.on("incoming", incoming);
    device.on("tokenWillExpire", function () { fetchToken().then(renewed, tokenProblem); });
    setState("connecting");
    armUnreachable();
    device.register().catch(twilioProblem);
  }

  // --- calls -----------------------------------------------------------------------------------

  function callContext(incomingCall) {
    var custom = incomingCall.customParameters;
    var get = function (name) { return custom && typeof custom.get === "function" ? custom.get(name) : undefined; };
    var from = (incomingCall.parameters || {}).From || "";
    return {
      callId: get("callId") || "",
      kind: get("kind") || "",
      caller: get("caller") || (from.indexOf("client:") === 0 ? "" : from)
    };
  }

  function takenHere(context) {
    var taken = null;
    try { taken = JSON.parse(window.sessionStorage.getItem(TAKEN_KEY) || "null"); } catch (ignored) { taken = null; }
    if (!taken || Date.now() - taken.at > AUTO_ANSWER_MS) { return false; }
    if (context.callId && taken.callId && String(taken.callId) !== String(context.callId)) { return false; }
    window.sessionStorage.removeItem(TAKEN_KEY);
    return true;
  }

  function incoming(incomingCall) {
    if (call) { incomingCall.reject(); return; }  // one call at a time; Twilio tries the queue again
    call = incomingCall;
    var context = callContext(incomingCall);
    say("call", null);
    showCaller(context);
    incomingCall.on("accept", connected);
    incomingCall.on("disconnect", function () { if (call === incomingCall) { idle(); } });
    incomingCall.on("reject", function () { if (call === incomingCall) { idle(); } });
    incomingCall.on("cancel", function () {  // stopped ringing: the caller left or the ring timed out
      if (call !== incomingCall) { return; }
      sayForAWhile("call", strings.missed, "warning");
      idle();
    });
    incomingCall.on("error", function (error) { sayForAWhile("call", describe(error)); });
    incomingCall.on("mute", function (muted) {
      muteButton.textContent = muted ? strings.unmute : strings.mute;
      muteButton.setAttribute("aria-pressed", muted ? "true" : "false");
    });
    if (takenHere(context)) {
      setState("ringing", strings.answering);
      incomingCall.accept();
      return;
    }
    setState("ringing");
    answerButton.hidden = false;
    hangUpButton.textContent = strings.decline;
    hangUpButton.hidden = false;
    document.title = "\u260E " + pageTitle;  // no focus() here: the agent may be typing
  }

  function connected() {
    connectedAt = Date.now();
    setState("on_call");
    document.title = "\u260E " + pageTitle;
    answerButton.hidden = true;
    hangUpButton.textContent = strings.hang_up;
    hangUpButton.hidden = false;
    muteButton.textContent = strings.mute;
    muteButton.setAttribute("aria-pressed", "false");
    muteButton.hidden = false;
    tick();
    show(timerView, true);
    tickTimer = window.setInterval(tick, 1000);
  }

  answerButton.addEventListener("click", function () {
    if (call && call.status() === "pending") { setState("ringing", strings.answering); call.accept(); }
  });
  hangUpButton.addEventListener("click", function () {
    if (!call) { return; }
    if (call.status() === "pending") { call.reject(); } else { call.disconnect(); }
  });
  muteButton.addEventListener("click", function () {
    if (call) { call.mute(!call.isMuted()); }
  });

  // Console.js says the agent took a call; the page is about to change to the call screen.
  document.addEventListener("console:call-taken", function (event) {
    try {
      window.sessionStorage.setItem(TAKEN_KEY, JSON.stringify({at: Date.now(), callId: event.detail.callId}));
    } catch (ignored) { /* private mode: the call will ring instead */ }
  });

  // --- forms sent during a call, without leaving the page ---------------------------------------

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!call || call.status() !== "open" || !form.matches('form[data-during-call="stay"]')) { return; }
    event.preventDefault();
    var body = new FormData(form);
    if (event.submitter && event.submitter.name) { body.append(event.submitter.name, event.submitter.value); }
    fetch(form.action, {method: "POST", body: body, credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        return response.text().then(function (html) { return {response: response, html: html}; });
      })
      .then(function (page) {
        var url = new URL(page.response.url);
        if (page.response.redirected && url.pathname !== window.location.pathname) {
          pendingUrl = page.response.url;  // e.g. wrapped up: the queue, once the call is over
          say("call", strings.saving_on_call, "hint");
          return;
        }
        var fresh = new DOMParser().parseFromString(page.html, "text/html");
        var main = fresh.querySelector("main");
        if (main) { document.querySelector("main").replaceWith(document.adoptNode(main)); }
      })
      .catch(function () { say("call", strings.no_connection); });
  });

  // --- the microphone ------------------------------------------------------------------------

  function showMicrophone(state) {
    if (state === "granted") { say("mic", null); }
    else if (state === "denied") { say("mic", strings.mic_denied); }
    else { say("mic", strings.mic_ask, "hint"); }
  }

  function checkMicrophone() {
    if (!navigator.permissions || !navigator.permissions.query) { showMicrophone("prompt"); return; }
    navigator.permissions.query({name: "microphone"}).then(function (status) {
      showMicrophone(status.state);
      status.addEventListener("change", function () { showMicrophone(status.state); });
    }).catch(function () { showMicrophone("prompt"); });
  }

  micButton.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({audio: true}).then(function (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      showMicrophone("granted");
    }).catch(function (error) {
      say("mic", error && error.name === "NotFoundError" ? strings.mic_missing : strings.mic_denied);
    });
  });

  // --- start -----------------------------------------------------------------------------------

  if (!window.isSecureContext || !navigator.mediaDevices) { fail(strings.insecure); return; }
  if (!window.Twilio || typeof window.Twilio.Device !== "function") { fail(strings.no_sdk); return; }
  if (window.Twilio.Device.isSupported === false) { fail(strings.unsupported); return; }
  setState("connecting");
  checkMicrophone();
  fetchToken().then(renewed, tokenProblem);
}());
