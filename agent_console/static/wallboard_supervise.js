/* Supervising from the wallboard (templates/console/_wallboard_supervise.html): the same forms as
   the Agents page, posted with fetch; what came of a click (or why it failed) is said above the
   list in the supervisor's language (the server's words). The list is read again whenever the
   board is (wallboard.js's "wallboard:updated"), and only the rows that changed are replaced:
   the panel stays open or closed, a focused button keeps its focus, a message stays. */
(function () {
  "use strict";

  var panel = document.getElementById("supervise-panel");
  if (!panel) { return; }
  var board = document.getElementById("wallboard");
  var message = document.getElementById("supervise-message");
  var count = document.getElementById("supervise-count");
  var OPEN_KEY = "hotline:wallboard:supervise-open";

  var reading = false;   // a read of the list is on its way
  var readAgain = false; // the board changed meanwhile: read once more after it
  var posting = 0;       // clicks on their way: the list is read after them

  function rows() { return document.getElementById("supervise-rows"); }

  function say(text, failed) {
    message.textContent = text || "";
    message.hidden = !text;
    message.classList.toggle("error", !!failed);
    message.classList.toggle("success", !!text && !failed);
  }

  // The panel's open state outlives a reload of the page (a wall screen reloads now and then);
  // while the supervisor is on a call it opens anyway, so that Leave is in sight.
  try {
    var remembered = window.localStorage.getItem(OPEN_KEY);
    if (remembered !== null && !panel.open) { panel.open = remembered === "1"; }
  } catch (error) { /* no storage: the server's choice stands */ }
  panel.addEventListener("toggle", function () {
    try { window.localStorage.setItem(OPEN_KEY, panel.open ? "1" : "0"); } catch (error) { /* no storage */ }
  });

  function focused() {  // the button that has the focus, as its row and its value
    var element = document.activeElement;
    var row = element && element.closest ? element.closest(".supervise-row") : null;
    return row && panel.contains(row) ? {user: row.dataset.userId, mode: element.value} : null;
  }

  function show(fresh) {
    var current = rows();
    count.textContent = fresh.dataset.count;
    var kept = {};
    current.querySelectorAll(".supervise-row").forEach(function (row) { kept[row.dataset.key] = row; });
    var wanted = Array.prototype.slice.call(fresh.children);
    function key(row) { return row.dataset.key || row.className; }  // "nobody on a call" has no key
    var same = wanted.length === current.children.length && wanted.every(function (row, n) {
      return key(row) === key(current.children[n]);
    });
    if (same) { return; }  // nothing changed: the rows (and the focus) stay as they are
    var had = focused();
    var next = wanted.map(function (row) { return (row.dataset.key && kept[row.dataset.key]) || row; });
    current.replaceChildren.apply(current, next);
    if (had) {  // the same button of the same agent, or else the first of that agent's row
      var row = current.querySelector('.supervise-row[data-user-id="' + had.user + '"]');
      var button = row && (row.querySelector('button[value="' + had.mode + '"]') || row.querySelector("button"));
      if (button) { button.focus(); }
    }
  }

  function read() {
    if (reading || posting) { readAgain = true; return Promise.resolve(); }
    reading = true;
    readAgain = false;
    return fetch(panel.dataset.fragmentUrl, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        if (!response.ok || response.redirected) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#supervise-rows");
        if (fresh) { show(fresh); }
      })
      .catch(function () { /* the board says when the server is out of reach; the next refresh tries again */ })
      .then(function () {
        reading = false;
        if (readAgain) { read(); }
      });
  }

  if (board) { board.addEventListener("wallboard:updated", function () { read(); }); }

  panel.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("supervise-form")) { return; }
    event.preventDefault();
    var body = new FormData(form);
    if (event.submitter && event.submitter.name) { body.append(event.submitter.name, event.submitter.value); }
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (button) { button.disabled = true; });
    posting += 1;
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": form.elements.csrf_token.value},
      body: body
    }).then(function (response) {
      return response.json().catch(function () { return {ok: false, message: panel.dataset.unreachable}; });
    }).catch(function () {
      return {ok: false, message: panel.dataset.unreachable};
    }).then(function (answer) {
      say(answer.message || panel.dataset.unreachable, !answer.ok);
      buttons.forEach(function (button) { button.disabled = false; });
      posting -= 1;
      return read();
    });
  });
})();
