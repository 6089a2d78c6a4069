/* The callbacks list, live: read again every few seconds (new requests, who took which, a placed
   call ringing, answered or not), unless the agent is typing in it. A "Place the call" button is
   disabled as it is clicked; the server refuses a second placement anyway. */
(function () {
  "use strict";

  var REFRESH_MS = 4000;

  function list() { return document.getElementById("callback-list"); }

  function guardButtons(root) {
    root.querySelectorAll("button[data-once]").forEach(function (button) {
      button.form.addEventListener("submit", function () {
        window.setTimeout(function () { button.disabled = true; }, 0);  // after the form is sent
      });
    });
  }

  function busy(root) {  // a close form open, or focus inside the list: do not pull it away
    return root.querySelector("details[open]") || root.contains(document.activeElement) && document.activeElement !== root;
  }

  function refresh() {
    var root = list();
    if (!root || document.hidden || busy(root)) { return; }
    fetch(root.dataset.refreshUrl, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        if (response.redirected || !response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var current = list();
        if (!current || busy(current)) { return; }
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#callback-list");
        if (!fresh) { return; }
        current.replaceWith(fresh);
        guardButtons(fresh);
      })
      .catch(function () { /* the next refresh tries again */ });
  }

  var root = list();
  if (!root) { return; }
  guardButtons(root);
  window.setInterval(refresh, REFRESH_MS);
}());
