"""The simulated caller in a conference (CALL_CONFERENCES): what the app asked Twilio's REST
API to do to the call's conference, read from the development stand-in's records, played
as Twilio would, and told as lines of the transcript.

A participant the app rang in answers at once (as the simulator treats `<Dial>`): its status
callback is posted with `in-progress` and the conference's with `participant-join`. The
caller put on hold hears the holdUrl; taken off hold, the other side again. A deleted
participant's status callback says `completed`. A participant's call given TwiML (tones for
an outside number consulted: `<Play digits>`, then `<Dial><Conference>` back in) leaves the
conference and joins it again; the caller hears nothing of it. The conference ended while the
caller is in it ends their `<Dial>`: Twilio posts its action. No state is kept here: the page (or
the terminal) sends back the last request it followed, and the app's webhooks are
idempotent for a callback posted twice (each names the stand-in's request in SequenceNumber).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from sqlalchemy import and_, or_, select

from extensions import db
from models import DevTwilioRequest
from simulator import twilio_api
from simulator.engine import SimulatedCall, SimulatedTurn, Speech

OPERATIONS = ("participants.create", "participants.update", "participants.delete", "conferences.update")
BATCH = 20


@dataclass
class Note:
    """One line of the transcript: what happened in the conference, and what the caller heard."""

    title: str
    text: str = ""
    spoken: list[Speech] = field(default_factory=list)


@dataclass
class Followed:
    last_id: int
    notes: list[Note]
    turn: SimulatedTurn | None = None  # the caller's <Dial> ended: what Twilio played next


def requests_about(name: str, after: int) -> list[DevTwilioRequest]:
    """The stand-in's accepted requests about this conference (by its name or its sid), and
    TwiML given to the calls of participants rung into it, oldest first."""
    sid = twilio_api.conference_sid(name)
    prefix = "%/Conferences/"
    in_this_conference = or_(
        DevTwilioRequest.path.like(f"{prefix}{name}/%"),
        DevTwilioRequest.path.like(f"{prefix}{sid}/%"),
        DevTwilioRequest.path.like(f"{prefix}{sid}.json"),
    )
    participants = select(DevTwilioRequest.call_sid).where(
        DevTwilioRequest.operation == "participants.create", DevTwilioRequest.status_code < 300, in_this_conference
    )
    return list(
        db.session.scalars(
            select(DevTwilioRequest)
            .where(
                DevTwilioRequest.id > after,
                DevTwilioRequest.status_code < 300,
                or_(
                    and_(DevTwilioRequest.operation.in_(OPERATIONS), in_this_conference),
                    and_(
                        DevTwilioRequest.operation == "calls.update",
                        DevTwilioRequest.action == "twiml",
                        DevTwilioRequest.call_sid.in_(participants),
                    ),
                ),
            )
            .order_by(DevTwilioRequest.id)
            .limit(BATCH)
        )
    )


def created(participant_sid: str | None) -> DevTwilioRequest | None:
    """The participants.create that rang this leg in (its label, number and status callback)."""
    if not participant_sid:
        return None
    return db.session.scalar(
        select(DevTwilioRequest)
        .where(DevTwilioRequest.operation == "participants.create", DevTwilioRequest.call_sid == participant_sid)
        .limit(1)
    )


def who(to: str) -> str:
    """Whom a participant's To rings, as a person reads it: `client:amira?…` is amira."""
    address = unquote(to or "?").split("?", 1)[0]
    for prefix in ("client:", "sip:"):
        if address.startswith(prefix):
            return address[len(prefix) :]
    return address


def flag(form: dict, name: str) -> bool | None:
    value = form.get(name)
    return None if value is None else str(value).lower() == "true"


def supervisor_mode(form: dict) -> str | None:
    if flag(form, "Coaching"):
        return "whispering to the agent (you don't hear them)"
    if flag(form, "Muted") is True:
        return "listening in (muted)"
    if flag(form, "Muted") is False:
        return "barging in: you hear them"
    return None


def joined_at(name: str) -> tuple[int, str, str]:
    """Where following a caller who has just joined the conference starts: before the agent was
    rung in for them (a conference is named for the call: one the caller was in earlier, before
    a transfer to the queue, has older requests); with that agent and their endpoint's kind."""
    rows = db.session.scalars(
        select(DevTwilioRequest)
        .where(
            DevTwilioRequest.operation == "participants.create",
            DevTwilioRequest.status_code < 300,
            DevTwilioRequest.path.like(f"%/Conferences/{name}/%"),
        )
        .order_by(DevTwilioRequest.id.desc())
        .limit(BATCH)
    )
    latest = next((row for row in rows if (row.form or {}).get("Label") == "agent"), None)
    if latest is None:
        return 0, "", ""
    to = (latest.form or {}).get("To", "")
    kind = "client" if to.startswith("client:") else "sip" if to.startswith("sip:") else "number"
    return latest.id - 1, who(to), kind


def agent_rung(name: str, since: int, after: int) -> bool:
    """Whether an agent was rung into the conference after `since`, up to `after`."""
    rows = db.session.scalars(
        select(DevTwilioRequest).where(
            DevTwilioRequest.operation == "participants.create",
            DevTwilioRequest.id > since,
            DevTwilioRequest.id <= after,
            DevTwilioRequest.path.like(f"%/Conferences/{name}/%"),
        )
    )
    return any((row.form or {}).get("Label") == "agent" for row in rows)


def follow(call: SimulatedCall, name: str, events_url: str | None, since: int, after: int) -> Followed:
    """Play what the app did to the conference after request `after` (the caller joined after `since`)."""
    notes: list[Note] = []
    after = max(after, since)
    last = after
    agents_seen = agent_rung(name, since, after)
    for row in requests_about(name, after):
        last = row.id
        form = row.form or {}
        if row.operation == "conferences.update":
            if form.get("Status") == "completed":
                notes.append(Note("The app ended the conference (REST API)"))
                if call.dial is not None:
                    return Followed(last, notes, call.dial_ended("completed"))
            continue
        if row.operation == "participants.create":
            notes.append(joined(call, row, form, first=not agents_seen))
            agents_seen = agents_seen or form.get("Label") == "agent"
            answer(call, row, form, events_url)
            continue
        key = row.call_sid or ""
        if row.operation == "calls.update":
            notes.append(given_twiml(call, row, name, events_url))
            continue
        if key == call.sid:
            if row.operation == "participants.update" and "Hold" in form:
                notes.append(hold(call, row, form, events_url))
            continue
        origin = created(key)
        label = (origin.form or {}).get("Label", "") if origin else ""
        person = who((origin.form or {}).get("To", "")) if origin else "?"
        if row.operation == "participants.delete":
            notes.append(Note(f"“{person}” left the conference"))
            ended(call, origin, key, events_url, row)
        elif label.startswith("supervisor") and supervisor_mode(form):
            notes.append(Note(f"The supervisor is now {supervisor_mode(form)}"))
        elif "Muted" in form and label == "agent":
            notes.append(Note("The agent muted their line" if flag(form, "Muted") else "The agent unmuted their line"))
    return Followed(last, notes)


def joined(call: SimulatedCall, row: DevTwilioRequest, form: dict, *, first: bool) -> Note:
    label = form.get("Label", "")
    person = who(form.get("To", ""))
    if label == "agent" and first:
        return Note(f"Twilio rings agent “{person}” into the conference", "They answer: you are talking to them.")
    if label == "agent":
        return Note(f"Transferred to agent “{person}”", "You hold until they answer.")
    if label == "transfer":
        return Note(f"Transferred to {person}", "The agent has left; you hold until they answer.")
    if label.startswith("consult"):
        return Note(f"The agent consults “{person}”", "They answer and talk to the agent while you hold.")
    if label.startswith("supervisor"):
        return Note(f"A supervisor joined, {supervisor_mode(form) or 'listening'}", f"“{person}”")
    return Note(f"“{person}” joined the conference")


def tones_of(twiml: str) -> int:
    """How many tones a TwiML document's <Play digits> play (w, a wait, is none)."""
    try:
        root = ET.fromstring(twiml)
    except ET.ParseError:
        return 0
    return sum(1 for verb in root.iter("Play") for key in verb.get("digits", "") if key != "w")


def given_twiml(call: SimulatedCall, row: DevTwilioRequest, name: str, events_url: str | None) -> Note:
    """A participant's call given TwiML: it leaves the conference, hears it, and (a <Dial>
    <Conference> of this one in it) joins again, as Twilio reports on the conference's events."""
    origin = created(row.call_sid)
    form = (origin.form or {}) if origin else {}
    person, label = who(form.get("To", "")), form.get("Label", "")
    twiml = (row.form or {}).get("Twiml", "")
    conference_event(call, events_url, row, "participant-leave", row.call_sid or "", label, conference=name)
    back = f">{name}</Conference>" in twiml
    if back:
        conference_event(call, events_url, row, "participant-join", row.call_sid or "", label, conference=name)
    tones = tones_of(twiml)
    title = f"The agent sent {tones} tones to “{person}”" if tones else f"“{person}” was given new instructions"
    return Note(title, "You don't hear them; they are back in the conference." if back else "They left the conference.")


def answer(call: SimulatedCall, row: DevTwilioRequest, form: dict, events_url: str | None) -> None:
    """The participant's phone is picked up: its status callback, then the conference's join."""
    leg = {"CallSid": row.call_sid or "", "From": form.get("From", ""), "To": form.get("To", "")}
    if form.get("StatusCallback"):
        call.notify(form["StatusCallback"], {**leg, "CallStatus": "in-progress", "Direction": "outbound-api"})
    conference_event(call, events_url, row, "participant-join", leg["CallSid"], form.get("Label", ""))


def ended(
    call: SimulatedCall, origin: DevTwilioRequest | None, key: str, events_url: str | None, row: DevTwilioRequest
) -> None:
    form = (origin.form or {}) if origin else {}
    if form.get("StatusCallback"):
        call.notify(
            form["StatusCallback"],
            {"CallSid": key, "From": form.get("From", ""), "To": form.get("To", ""), "CallStatus": "completed"},
        )
    conference_event(call, events_url, row, "participant-leave", key, form.get("Label", ""))


def hold(call: SimulatedCall, row: DevTwilioRequest, form: dict, events_url: str | None) -> Note:
    held = flag(form, "Hold")
    conference_event(call, events_url, row, "participant-hold" if held else "participant-unhold", call.sid, "")
    if not held:
        return Note("Off hold: you are back on the line")
    heard = call.listen(form["HoldUrl"]) if form.get("HoldUrl") else []
    line = " ".join(s.content for s in heard if s.kind == "say")
    return Note(f"On hold: {line}" if line else "On hold", spoken=heard)


def conference_event(
    call: SimulatedCall,
    events_url: str | None,
    row: DevTwilioRequest,
    event: str,
    leg_sid: str,
    label: str,
    *,
    conference: str | None = None,
) -> None:
    """The conference's statusCallback for `row` (a request about it, or about a participant's
    call: then `conference` names it)."""
    if not events_url:
        return
    fields = {
        "StatusCallbackEvent": event,
        "ConferenceSid": twilio_api.conference_sid(conference or conference_of(row)),
        "CallSid": leg_sid,
        "SequenceNumber": str(row.id),
    }
    if label:
        fields["ParticipantLabel"] = label
    call.notify(events_url, fields)


def conference_of(row: DevTwilioRequest) -> str:
    """The conference (name or sid) in a request's path."""
    parts = urlsplit(row.path).path.split("/")
    index = parts.index("Conferences") if "Conferences" in parts else -1
    return parts[index + 1].removesuffix(".json") if 0 <= index < len(parts) - 1 else ""
