/* Call control on the call screen (templates/console/_call_controls.html): the buttons are forms
   that work without JavaScript; here they are posted with fetch, the answer is shown in the
   agent's language (the server's words), and the fresh controls replace the old ones, so the
   notes being typed elsewhere on the page stay as they are. The keypad (an outside number
   consulted) adds its keys to the tones to send; the tones typed stay when sending failed. */
(function () {
  "use strict";

  if (window.hotlineCallControl) { return; }  // the fragment brings this script along again
  window.hotlineCallControl = true;

  var RINGING_POLL_MS = 2000;  // while a colleague's phone rings: look again for their answer
  var pollTimer = null;

  function section() { return document.getElementById("call-controls"); }

  function watchRinging() {
    clearTimeout(pollTimer);
    var root = section();
    // A colleague's phone rings, or the agent is still being rung into the conference.
    if (root && (root.dataset.ringing === "yes" || root.dataset.pending === "yes")) {
      pollTimer = setTimeout(function () {
        var box = root.querySelector(".call-control-message");
        refresh(box ? box.textContent : "", box && box.classList.contains("error")).catch(watchRinging);
      }, RINGING_POLL_MS);
    }
  }

  function say(text, failed) {
    var box = section() && section().querySelector(".call-control-message");
    if (!box) { return; }
    box.textContent = text || "";
    box.classList.toggle("error", !!failed);
  }

  function refresh(message, failed) {
    var current = section();
    return fetch(current.dataset.fragment, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#call-controls");
        if (fresh) { current.replaceWith(fresh); } else { current.dataset.pending = "no"; }  // the call ended
        say(message, failed);
        watchRinging();
      });
  }

  watchRinging();

  function keypadInput(from) {
    var form = from.closest("form.keypad-form");
    return form ? form.elements.digits : null;
  }

  document.addEventListener("click", function (event) {
    var key = event.target.closest ? event.target.closest(".keypad-key, .keypad-erase") : null;
    var input = key ? keypadInput(key) : null;
    if (!input) { return; }
    if (key.classList.contains("keypad-erase")) {
      input.value = input.value.slice(0, -1);
    } else if (input.value.length < input.maxLength) {
      input.value += key.dataset.key;
    }
  });

  // A key typed while a key of the pad has the focus presses that key, as on a phone.
  document.addEventListener("keydown", function (event) {
    var pad = event.target.closest ? event.target.closest(".keypad") : null;
    if (!pad || event.ctrlKey || event.metaKey || event.altKey || event.key.length !== 1) { return; }
    var button = Array.prototype.find.call(pad.querySelectorAll(".keypad-key"), function (candidate) {
      return candidate.dataset.key === event.key;
    });
    if (!button) { return; }
    event.preventDefault();
    button.focus();
    button.click();
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("call-control")) { return; }
    event.preventDefault();
    var root = section();
    var noConnection = root ? root.dataset.noConnection : "";
    root.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
    var tones = form.elements.digits ? form.elements.digits.value : null;
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": form.elements.csrf_token.value},
      body: new FormData(form)
    }).then(function (response) {
      return response.json().catch(function () { return {ok: false, message: noConnection}; });
    }).then(function (answer) {
      if (answer.ok && answer.url && answer.url !== window.location.pathname) {
        window.location.assign(answer.url);  // handed over: the call is the colleague's now
        return null;
      }
      return refresh(answer.message, !answer.ok).then(function () {
        var input = tones !== null && document.getElementById("keypad-digits");
        if (!input) { return; }
        if (!answer.ok) { input.value = tones; }  // not sent: the agent may try again as typed
        input.focus();
      });
    }).catch(function () {
      say(noConnection, true);
      root.querySelectorAll("button").forEach(function (button) { button.disabled = false; });
    });
  });
})();
