// The call simulator page: keeps the call's state in the browser and posts each step to
// the JSON API, which signs it and forwards it to the IVR as Twilio would.
//
// While the caller waits in the queue (or talks to an agent) the page asks the server
// every second whether the app told Twilio's REST API to do something to the call (an
// agent clicked Take: redirect it to /ivr/agent/connect) and then does it. While no call
// is on, it asks whether the app placed a call (an agent's callback) and rings.
"use strict";

(function () {
  const root = document.querySelector(".simulator");
  const api = root.dataset.api;
  const $ = (id) => document.getElementById(id);
  const keys = Array.from(document.querySelectorAll(".key"));
  const POLL_MS = 1000;
  const INCOMING_POLL_MS = 2000;
  const STATE_LABELS = {
    idle: "Ready to call",
    calling: "Calling…",
    waiting: "Waiting for keys",
    queued: "In queue for an agent",
    connected: "Connected to agent",
    ringing: "Incoming call",
    ended: "Call ended",
  };
  const ENDPOINT_KINDS = {
    client: "browser phone", sip: "SIP phone", number: "phone",
    queue: "queue", conference: "conference",
  };

  // Everything the server needs to continue the call; the server itself keeps nothing.
  // {sid, caller, direction, gather, queue, dial, startedAt, connectedAt, lastUpdate}
  let call = null;
  let incoming = null; // a call the app placed, ringing here: {call_sid, to, from}
  let entered = "";
  let busy = false;
  let timer = null;

  function setState(state, detail) {
    const label = $("state");
    label.dataset.state = state;
    label.textContent = STATE_LABELS[state] + (detail ? ` ${detail}` : "");
    const waiting = state === "waiting" && !busy;
    keys.forEach((button) => { button.disabled = !waiting; });
    $("timeout").disabled = !waiting;
    $("hangup").disabled = busy || !["waiting", "queued", "connected"].includes(state);
    $("call").disabled = busy || !(state === "idle" || state === "ended");
    $("caller-fields").disabled = !(state === "idle" || state === "ended");
    $("entered").textContent = entered;
    $("queue-panel").hidden = state !== "queued";
    if (state !== "queued" && $("queue-offer")) $("queue-offer").hidden = true;
    $("agent-panel").hidden = state !== "connected";
    $("agent-hangup").disabled = busy;
    $("agent-missed").disabled = busy;
    $("incoming-panel").hidden = state !== "ringing";
    root.dataset.state = state;
    schedulePoll(state);
  }

  function showError(message) {
    const box = $("error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  async function request(method, path, body) {
    const response = await fetch(api + path, {
      method,
      headers: body ? { "Content-Type": "application/json", Accept: "application/json" }
                    : { Accept: "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });
    let data = {};
    try { data = await response.json(); } catch (_) { /* an HTML error page */ }
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }
  const post = (path, body) => request("POST", path, body);
  const get = (path) => request("GET", path);

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
      text.textContent = speech.kind === "line" ? speech.text : `[${speech.text}]`;
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

  function note(title, text, className) {
    return addEntry(title, text ? [{ kind: "line", text }] : [], className);
  }

  function gatherHint(gather) {
    if (gather.num_digits) return `(${gather.num_digits} digit${gather.num_digits > 1 ? "s" : ""})`;
    return gather.finish_on_key ? `(digits, end with ${gather.finish_on_key})` : "(digits)";
  }

  function dialTarget(dial) {
    // In a conference, the agent rung into it by REST; else whom the <Dial> rings.
    const target = (dial && (dial.agent || dial.targets[0])) || { kind: "", address: "" };
    return { name: target.address || "?", kind: ENDPOINT_KINDS[target.kind] || target.kind };
  }

  function showTurn(turn) {
    if (turn.spoken.length || turn.state !== "connected") addEntry("IVR", turn.spoken, "ivr");
    if (turn.state === "queued") addEntry(`Waiting in queue “${turn.queue.name}”`, turn.hold, "hold");
    if (turn.state === "connected") {
      const agent = dialTarget(turn.dial);
      if (turn.dial.conference) {
        note("You join the call's conference",
          `Connecting you to agent “${agent.name}” (${agent.kind})… You wait in conference ` +
          `“${turn.dial.conference}”; Twilio rings the agent into it by REST.`, "dial");
      } else {
        note("Twilio dials the agent", `Connecting you to agent “${agent.name}” (${agent.kind})…`, "dial");
      }
      $("agent-name").textContent = agent.name;
      $("agent-kind").textContent = agent.kind;
    }
  }

  function stateDetail(turn) {
    if (turn.gather) return gatherHint(turn.gather);
    if (turn.state === "connected") return `“${dialTarget(turn.dial).name}”`;
    return "";
  }

  // --- the call -----------------------------------------------------------------------
  function remember(turn) {
    call = Object.assign(call || {}, {
      sid: turn.call_sid, caller: turn.caller, direction: turn.direction,
      gather: turn.gather, queue: turn.queue, dial: turn.dial,
    });
    if (turn.update_id) call.lastUpdate = turn.update_id;
    call.connectedAt = turn.state === "connected" ? Date.now() : null;
  }

  async function step(path, body, describe) {
    busy = true;
    showError("");
    setState(call ? "calling" : "idle");
    try {
      const turn = await post(path, body);
      if (describe) addEntry(describe, [], "caller");
      remember(turn);
      showTurn(turn);
      busy = false;
      entered = "";
      if (turn.state === "ended") return finish("The IVR ended the call.");
      setState(turn.state, stateDetail(turn));
    } catch (error) {
      busy = false;
      showError(error.message);
      if (call && (call.gather || call.queue || call.dial)) {
        setState(call.gather ? "waiting" : call.queue ? "queued" : "connected");
      } else {
        setState("ended");
      }
    }
  }

  function startCall() {
    $("transcript").replaceChildren();
    $("call-sid").textContent = "";
    call = { startedAt: Date.now(), lastUpdate: 0 };
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

  function agentLeg(dialStatus) {
    if (!call || !call.dial || busy) return;
    const seconds = Math.max(1, Math.ceil((Date.now() - (call.connectedAt || Date.now())) / 1000));
    const describe = dialStatus === "completed"
      ? `The agent hung up after ${seconds} s` : "The agent did not answer";
    step("dial-ended", {
      call_sid: call.sid,
      caller: call.caller,
      dial: { action_url: call.dial.action_url },
      dial_status: dialStatus,
      duration: dialStatus === "completed" ? seconds : null,
    }, describe);
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
      note(message, "", "end");
    } catch (error) {
      showError(error.message);
    }
  }

  // --- what the app does to the call through Twilio's REST API ------------------------
  // Routing by offer: whom the waiting caller is offered to, as the agents' consoles show it.
  // An offer that ended with no redirect after it was not accepted: said one poll later, so
  // that an accepted offer (whose redirect may come a moment after) is not reported missed.
  function showOffer(offer) {
    const panel = $("queue-offer");
    if (!panel || !call) return;
    const before = call.offer;
    const changed = before && (!offer || offer.agent_id !== before.agent_id);
    const missed = (name) => note(`Agent “${name}” did not accept`,
      "An offer not accepted in time makes the agent Away (missed); the caller is offered to the next available agent.",
      "system");
    if (call.offerEnded) missed(call.offerEnded);
    call.offerEnded = null;
    if (changed && offer) missed(before.agent);
    else if (changed) call.offerEnded = before.agent;
    if (offer && (!before || changed)) {
      note(`Offered to agent “${offer.agent}”`,
        `Their console rings; they have ${offer.expires_in_s} s to click Accept.`, "system");
    }
    call.offer = offer;
    panel.hidden = !offer;
    root.dataset.offer = offer ? "offered" : "";
    if (offer) {
      $("offer-agent").textContent = offer.agent;
      $("offer-left").textContent = `${offer.expires_in_s} s left`;
    }
  }

  async function pollCall() {
    const data = await get(`poll?call_sid=${encodeURIComponent(call.sid)}&after=${call.lastUpdate || 0}`);
    if (!call || busy || data.call_sid !== call.sid) return;
    if (!data.update) {
      showOffer(root.dataset.state === "queued" ? data.offer : null);
      if (call.dial && call.dial.conference) await followConference();
      return;
    }
    call.offer = null;
    call.offerEnded = null;
    const update = data.update;
    call.lastUpdate = update.id;
    if (update.action === "hangup") {
      busy = true;
      const ending = call;
      try {
        await post("follow", {
          call_sid: ending.sid, caller: ending.caller, update_id: update.id,
          queue_action_url: ending.queue ? ending.queue.action_url : null,
          dial: ending.dial ? { action_url: ending.dial.action_url } : null,
        });
        note("The app hung up the call (REST API)", "", "end");
      } finally {
        busy = false;
        call = null;
        setState("ended");
      }
      return;
    }
    const where = update.url ? new URL(update.url).pathname : "new TwiML";
    note("An agent took the call", `Twilio redirects the call to ${where}`, "system");
    await step("follow", {
      call_sid: call.sid, caller: call.caller, update_id: update.id,
      queue_action_url: call.queue ? call.queue.action_url : null,
      dial: call.dial ? { action_url: call.dial.action_url } : null,
    });
  }

  // With CALL_CONFERENCES the caller waits in a conference: the agent, a consulted colleague or a
  // supervisor is rung in by REST, and the caller is put on hold or taken off it. The server
  // answers each leg as its phone would and tells what happened since the last request followed.
  async function followConference() {
    const dial = call.dial;
    busy = true;
    try {
      const data = await post("conference", {
        call_sid: call.sid, caller: call.caller, after: call.lastConference || 0,
        dial: { action_url: dial.action_url, conference: dial.conference,
                events_url: dial.events_url, since: dial.since },
      });
      if (!call || data.call_sid !== call.sid) return;
      call.lastConference = data.last_id;
      data.notes.forEach((item) => addEntry(item.title,
        (item.text ? [{ kind: "line", text: item.text }] : []).concat(item.spoken), "system conference"));
      if (data.turn) {
        remember(data.turn);
        showTurn(data.turn);
        busy = false;
        if (data.turn.state === "ended") return finish("The IVR ended the call.");
        setState(data.turn.state, stateDetail(data.turn));
      }
    } finally {
      busy = false;
    }
  }

  async function pollIncoming() {
    const data = await get("incoming");
    const ringing = data.calls[0];
    if (call && call.sid) return;
    if (!ringing) {
      if (incoming) { incoming = null; setState("idle"); }  // it stopped ringing
      return;
    }
    incoming = ringing;
    $("incoming-from").textContent = ringing.from;
    $("incoming-to").textContent = ringing.to;
    setState("ringing");
  }

  async function answer() {
    if (!incoming || busy) return;
    const ringing = incoming;
    incoming = null;
    $("transcript").replaceChildren();
    $("call-sid").textContent = ringing.call_sid;
    call = { startedAt: Date.now(), lastUpdate: 0 };
    note("You answered a call from the hotline", `${ringing.from} calls ${ringing.to} back.`, "caller");
    await step("answer", { call_sid: ringing.call_sid });
  }

  async function decline() {
    if (!incoming || busy) return;
    const ringing = incoming;
    incoming = null;
    try {
      await post("decline", { call_sid: ringing.call_sid });
      note("You declined a call from the hotline", `${ringing.from} called ${ringing.to}.`, "end");
    } catch (error) {
      showError(error.message);
    }
    setState("ended");
  }

  function schedulePoll(state) {
    clearTimeout(timer);
    let poll = null;
    let delay = POLL_MS;
    if ((state === "queued" || state === "connected") && call && call.sid) {
      poll = pollCall;
    } else if (state === "idle" || state === "ended" || state === "ringing") {
      poll = pollIncoming;
      delay = INCOMING_POLL_MS;
    }
    if (!poll) return;
    timer = setTimeout(async () => {
      try {
        await poll();
      } catch (error) {
        showError(error.message);
      }
      if (!busy) schedulePoll(root.dataset.state);
    }, delay);
  }

  $("call").addEventListener("click", startCall);
  $("timeout").addEventListener("click", () => send(entered));
  $("hangup").addEventListener("click", () => { if (!busy) finish("You hung up."); });
  $("agent-hangup").addEventListener("click", () => agentLeg("completed"));
  $("agent-missed").addEventListener("click", () => agentLeg("no-answer"));
  $("answer").addEventListener("click", answer);
  $("decline").addEventListener("click", decline);
  keys.forEach((button) => button.addEventListener("click", () => press(button.dataset.key)));
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input")) return;
    if (/^[0-9*#]$/.test(event.key)) press(event.key);
    else if (event.key === "Enter" && call && call.gather) send(entered);
  });
  $("withheld").addEventListener("change", (event) => { $("caller").disabled = event.target.checked; });
  setState("idle");
})();
