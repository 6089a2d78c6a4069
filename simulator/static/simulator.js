// The call simulator page: keeps the call's state in the browser and posts each step to
// the JSON API, which signs it and forwards it to the IVR as Twilio would.
"use strict";

(function () {
  const root = document.querySelector(".simulator");
  const api = root.dataset.api;
  const $ = (id) => document.getElementById(id);
  const keys = Array.from(document.querySelectorAll(".key"));
  const STATE_LABELS = {
    idle: "Ready to call",
    calling: "Calling…",
    waiting: "Waiting for keys",
    queued: "In queue for an agent",
    ended: "Call ended",
  };

  // Everything the server needs to continue the call; the server itself keeps nothing.
  let call = null; // {sid, caller, gather, queue, startedAt}
  let entered = "";
  let busy = false;

  function setState(state, detail) {
    const label = $("state");
    label.dataset.state = state;
    label.textContent = STATE_LABELS[state] + (detail ? ` (${detail})` : "");
    const waiting = state === "waiting" && !busy;
    keys.forEach((button) => { button.disabled = !waiting; });
    $("timeout").disabled = !waiting;
    $("hangup").disabled = busy || !(state === "waiting" || state === "queued");
    $("call").disabled = busy || !(state === "idle" || state === "ended");
    $("caller-fields").disabled = !(state === "idle" || state === "ended");
    $("entered").textContent = entered;
  }

  function showError(message) {
    const box = $("error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  async function post(path, body) {
    const response = await fetch(api + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (_) { /* an HTML error page */ }
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }

  // --- the transcript ---------------------------------------------------------------
  function htmlLang(language) {
    // Twilio names Modern Standard Arabic "arb"; HTML wants a BCP 47 tag.
    return language === "arb" ? "ar" : (language || "");
  }

  function speechLine(speech) {
    const line = document.createElement("div");
    line.className = `speech ${speech.kind}`;
    const text = document.createElement("p");
    if (speech.kind === "say") {
      // The language tag sits outside the text, so that dir="auto" sees only the prompt:
      // Arabic and Kurdish right to left, English left to right.
      const tag = document.createElement("span");
      tag.className = "language";
      tag.dir = "ltr";
      tag.textContent = speech.language || "default";
      line.append(tag);
      text.dir = "auto";
      if (speech.language) text.lang = htmlLang(speech.language);
      text.textContent = speech.text;
    } else if (speech.kind === "play") {
      text.dir = "ltr";
      text.textContent = `[audio: ${speech.text}]`;
    } else if (speech.kind === "pause") {
      text.textContent = `[pause ${speech.text} s]`;
    } else {
      text.textContent = `[${speech.text}]`;
    }
    line.append(text);
    return line;
  }

  function addEntry(title, speeches, className) {
    const item = document.createElement("li");
    item.className = `turn ${className || ""}`;
    const heading = document.createElement("h3");
    heading.textContent = title;
    item.append(heading, ...speeches.map(speechLine));
    $("transcript").append(item);
    item.scrollIntoView({ block: "nearest" });
    return item;
  }

  function gatherHint(gather) {
    if (gather.num_digits) return `${gather.num_digits} digit${gather.num_digits > 1 ? "s" : ""}`;
    return gather.finish_on_key ? `digits, end with ${gather.finish_on_key}` : "digits";
  }

  function showTurn(turn) {
    addEntry("IVR", turn.spoken, "ivr");
    if (turn.state === "queued") addEntry(`Waiting in queue “${turn.queue.name}”`, turn.hold, "hold");
  }

  // --- the call -----------------------------------------------------------------------
  async function step(path, body, describe) {
    busy = true;
    showError("");
    setState(call ? "calling" : "idle");
    try {
      const turn = await post(path, body);
      if (describe) addEntry(describe, [], "caller");
      call = Object.assign(call || {}, {
        sid: turn.call_sid, caller: turn.caller, gather: turn.gather, queue: turn.queue,
      });
      showTurn(turn);
      busy = false;
      entered = "";
      if (turn.state === "ended") return finish("The IVR ended the call.");
      setState(turn.state, turn.gather ? gatherHint(turn.gather) : "");
    } catch (error) {
      busy = false;
      showError(error.message);
      setState(call && call.gather ? "waiting" : "ended");
    }
  }

  function startCall() {
    $("transcript").replaceChildren();
    $("call-sid").textContent = "";
    call = { startedAt: Date.now() };
    entered = "";
    const withheld = $("withheld").checked;
    const body = withheld ? { withheld: true } : { caller: $("caller").value.trim() };
    step("start", body).then(() => {
      if (call && call.sid) $("call-sid").textContent = call.sid;
    });
  }

  function send(keysText) {
    if (!call || !call.gather || busy) return;
    const gather = call.gather;
    step("press", {
      call_sid: call.sid,
      caller: call.caller,
      action_url: gather.action_url,
      num_digits: gather.num_digits,
      finish_on_key: gather.finish_on_key,
      digits: keysText,
    }, keysText ? `You pressed ${keysText}` : "Silence (timeout)");
  }

  function press(key) {
    if (!call || !call.gather || busy) return;
    entered += key;
    $("entered").textContent = entered;
    const gather = call.gather;
    // Twilio stops listening at the finish key or once numDigits keys have come.
    const digitCount = entered.replace(gather.finish_on_key || "\u0000", "").length;
    if ((gather.finish_on_key && key === gather.finish_on_key) ||
        (gather.num_digits && digitCount >= gather.num_digits)) {
      send(entered);
    }
  }

  async function finish(message) {
    // Twilio's status callback, whoever ended the call.
    const ending = call;
    call = null;
    entered = "";
    setState("ended");
    if (!ending || !ending.sid) return;
    try {
      await post("hangup", {
        call_sid: ending.sid,
        caller: ending.caller,
        queue_action_url: ending.queue ? ending.queue.action_url : null,
        duration: Math.max(1, Math.ceil((Date.now() - ending.startedAt) / 1000)),
      });
      addEntry(message, [], "end");
    } catch (error) {
      showError(error.message);
    }
  }

  $("call").addEventListener("click", startCall);
  $("timeout").addEventListener("click", () => send(entered));
  $("hangup").addEventListener("click", () => { if (!busy) finish("You hung up."); });
  keys.forEach((button) => button.addEventListener("click", () => press(button.dataset.key)));
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input")) return;
    if (/^[0-9*#]$/.test(event.key)) press(event.key);
    else if (event.key === "Enter" && call && call.gather) send(entered);
  });
  $("withheld").addEventListener("change", (event) => { $("caller").disabled = event.target.checked; });
  setState("idle");
})();
