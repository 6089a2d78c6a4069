"""`flask ivr simulate`: a call to 5599 in the terminal, over signed webhooks."""

from __future__ import annotations

import sys
import time

import click
from flask import current_app
from flask.cli import AppGroup

from simulator.engine import (
    DEFAULT_CALLER,
    FlaskTransport,
    HttpTransport,
    SimulatedCall,
    SimulatedTurn,
    SimulatorError,
    Speech,
    check_keys,
)

ivr = AppGroup("ivr", help="The voice IVR.")
HANG_UP = "h"
WAIT_FOR_AGENT = "w"  # in the queue: wait until an agent takes the call in the console
AGENT_HANGS_UP = "a"  # connected to an agent: the agent hangs up
AGENT_MISSES = "n"  # connected to an agent: the agent does not answer
LISTEN = "l"  # in a conference (CALL_CONFERENCES, in-process): hear what the agent does, until --wait
POLL_S = 1.0


@ivr.command("simulate")
@click.option(
    "--from",
    "caller",
    default=DEFAULT_CALLER,
    show_default=True,
    help='The caller\'s number; "anonymous" for a withheld number.',
)
@click.option(
    "--url",
    "base_url",
    default=None,
    help="Post to a running server at this base URL instead of in-process. "
    "Requests are signed for PUBLIC_BASE_URL with TWILIO_AUTH_TOKEN, "
    "so both must match the server's.",
)
@click.option(
    "--keys",
    default=None,
    help='Comma separated presses, e.g. "3,1,1234#,1,15032024,1"; an empty '
    'entry is silence, "h" hangs up. In the queue "w" waits for an agent to '
    'take the call; connected, "a" is the agent hanging up, "n" the agent not '
    "answering. Runs without prompting.",
)
@click.option(
    "--wait",
    "wait_s",
    default=120,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="How long w waits for an agent, in seconds.",
)
def simulate(caller: str, base_url: str | None, keys: str | None, wait_s: int) -> None:
    """Play a call to the IVR: print what it says and send the keys you press.

    While the caller waits in the queue, take the call in the agent console (with the
    development Twilio stand-in, as in ./scripts/run-demo) and press w: the call follows.
    """
    presses = parse_keys(keys) if keys is not None else None
    call = SimulatedCall(transport(base_url), caller)
    click.echo(f"Calling 5599 from {call.caller} (call {call.sid})")
    try:
        play(call, presses, AgentWatch(base_url, wait_s))
    except SimulatorError as exc:
        hang_up_quietly(call)
        raise click.ClickException(str(exc)) from exc
    finish(call)


def transport(base_url: str | None):
    app = current_app._get_current_object()
    if base_url is None:
        if app.config["APP_ENV"] == "production":
            # In-process calls would write simulated calls into the production records.
            raise click.ClickException("in production, simulate against a server with --url")
        return FlaskTransport(app)
    try:
        return HttpTransport.for_app(app, base_url)
    except ImportError as exc:  # requests is a development dependency
        raise click.ClickException("--url needs the requests package") from exc


def parse_keys(text: str) -> list[str]:
    presses = [press.strip() for press in text.split(",")]
    for press in presses:
        if press.lower() not in {HANG_UP, WAIT_FOR_AGENT, AGENT_HANGS_UP, AGENT_MISSES, LISTEN}:
            try:
                check_keys(press)
            except ValueError as exc:
                raise click.BadParameter(f"{press!r}: {exc}", param_hint="--keys") from exc
    return presses


def play(call: SimulatedCall, presses: list[str] | None, watch: "AgentWatch | None" = None) -> None:
    """Speak each turn, then ask for keys (from --keys or the terminal) until the call ends."""
    turn = call.start()
    connected_since = None
    while True:
        show_turn(turn)
        if turn.ended:
            click.echo("The IVR ended the call.")
            return
        connected_since = (connected_since or time.monotonic()) if turn.connected else None
        if turn.enqueued and watch is not None and next_is(presses, WAIT_FOR_AGENT, QUEUE_PROMPT):
            turn = watch.wait(call, turn)
            if turn is None:
                click.echo("The app hung up the call.")
                return
            continue
        if turn.connected:
            in_conference = watch is not None and watch.base_url is None and turn.dial.conference is not None
            if in_conference:
                turn = watch.listen(call, turn, 0) or turn  # the agent rung in answers
                if call.ended and not turn.ended:
                    click.echo("The app hung up the call.")
                    return
                if not turn.connected:
                    continue
            choices = {AGENT_HANGS_UP, AGENT_MISSES} | ({LISTEN} if in_conference else set())
            choice = next_choice(presses, choices, CONFERENCE_PROMPT if in_conference else CONNECTED_PROMPT)
            if choice is None:
                click.echo("You hung up.")
                return
            if choice == LISTEN:
                turn = watch.listen(call, turn, watch.wait_s) or turn
                if call.ended and not turn.ended:
                    click.echo("The app hung up the call.")
                    return
                continue
            if choice == AGENT_HANGS_UP:
                talked = max(1, round(time.monotonic() - connected_since))
                click.echo(f"The agent hung up after {talked} s.")
                turn = call.dial_ended("completed", duration=talked)
            else:
                click.echo("The agent did not answer.")
                turn = call.dial_ended("no-answer")
            continue
        keys = next_keys(turn, presses)
        if keys is None:
            click.echo("You hung up.")
            return
        turn = call.press(keys)


def next_keys(turn: SimulatedTurn, presses: list[str] | None) -> str | None:
    """The next press, '' for silence, None to hang up."""
    if turn.enqueued:
        if presses is None:
            wait_in_queue()
        return None  # only an agent (the console) or hanging up takes a caller out of the queue
    if presses is None:
        return ask_terminal(turn)
    if not presses:
        click.echo("(no more keys)")
        return None
    press = presses.pop(0)
    click.echo(f"> {press or '(silence)'}")
    return None if press.lower() == HANG_UP else press


def ask_terminal(turn: SimulatedTurn) -> str | None:
    hint = describe_gather(turn)
    while True:
        line = read_line(f"keys ({hint}; Enter = silence, h = hang up)> ")
        if line is None or line.strip().lower() == HANG_UP:
            return None
        try:
            return check_keys(line.strip())
        except ValueError as exc:
            click.echo(f"  {exc}")


def wait_in_queue() -> None:
    read_line("In the queue: press Enter or h to hang up> ")


QUEUE_PROMPT = "In the queue: w = wait for an agent to take the call, Enter or h = hang up> "
CONFERENCE_PROMPT = (
    "In the conference: l = listen to what the agent does, a = the agent hangs up, "
    "n = the agent does not answer, h = you hang up> "
)
CONNECTED_PROMPT = "With the agent: a = the agent hangs up, n = the agent does not answer, h = you hang up> "


def next_choice(presses: list[str] | None, allowed: set[str], prompt: str) -> str | None:
    """One of `allowed` from --keys or the terminal; None (hang up) for anything else."""
    if presses is None:
        line = read_line(prompt)
        choice = (line or "").strip().lower()
    else:
        if not presses or presses[0].lower() not in allowed:
            return None  # the keys left do not say to go on: the caller hangs up
        choice = presses.pop(0).lower()
        click.echo(f"> {choice}")
    return choice if choice in allowed else None


def next_is(presses: list[str] | None, choice: str, prompt: str) -> bool:
    if presses is not None and (not presses or presses[0].lower() != choice):
        return False  # leave the hang-up to next_keys, as without an agent watch
    return next_choice(presses, {choice}, prompt) == choice


class AgentWatch:
    """Waits for what the app asked Twilio's REST API to do to the call (the development
    stand-in records it): in-process from the database, with --url from the simulator's poll."""

    def __init__(self, base_url: str | None, wait_s: int):
        self.base_url = base_url.rstrip("/") if base_url else None
        self.wait_s = wait_s
        self.last_update = 0
        self.conference: tuple | None = None  # the conference followed: (name, the request joining it)
        self.conference_since = self.conference_after = 0

    def pending(self, sid: str) -> dict | None:
        if self.base_url is None:
            from extensions import db
            from simulator.twilio_api import pending_update

            db.session.rollback()  # a fresh read: the server records updates in its own transactions
            update = pending_update(sid, self.last_update)
            return update and {"id": update.id, "action": update.action, **(update.form or {})}
        import requests

        answer = requests.get(
            f"{self.base_url}/dev/simulator/api/poll", timeout=10, params={"call_sid": sid, "after": self.last_update}
        )
        answer.raise_for_status()
        update = answer.json()["update"]
        return update and {
            "id": update["id"],
            "action": update["action"],
            "Url": update["url"],
            "Method": update["method"],
        }

    def listen(self, call: SimulatedCall, turn: SimulatedTurn, seconds: int) -> SimulatedTurn | None:
        """In-process, in a conference: play what the app did to it (simulator/conference.py)
        for up to `seconds`; the next turn when the caller left it, else None."""
        from extensions import db
        from simulator.conference import follow, joined_at

        dial = turn.dial
        if self.conference != (dial.conference, dial.document_url):  # joined (again): from the agent rung in
            self.conference = (dial.conference, dial.document_url)
            self.conference_since = self.conference_after = joined_at(dial.conference)[0]
        deadline = time.monotonic() + seconds
        while True:
            db.session.rollback()  # a fresh read, as pending() does
            if self.pending(call.sid) is not None:
                return self.wait(call, turn)  # redirected out of the conference (to the queue)
            followed = follow(
                call, dial.conference, dial.conference_events_url, self.conference_since, self.conference_after
            )
            self.conference_after = followed.last_id
            for note in followed.notes:
                click.echo(f"[{note.title}]" + (f" {note.text}" if note.text else ""))
                for speech in note.spoken:
                    click.echo("    " + describe(speech))
            if followed.turn is not None or time.monotonic() >= deadline:
                return followed.turn
            time.sleep(POLL_S)

    def wait(self, call: SimulatedCall, turn: SimulatedTurn) -> SimulatedTurn | None:
        """The next turn once an agent took the call; the same turn after --wait seconds; None if hung up."""
        click.echo(f"Waiting up to {self.wait_s} s for an agent to take the call in the console...")
        deadline = time.monotonic() + self.wait_s
        while time.monotonic() < deadline:
            update = self.pending(call.sid)
            if update is not None:
                self.last_update = update["id"]
                if update["action"] == "hangup":
                    call.end_by_api()
                    return None
                if update["action"] == "twiml":
                    return call.run_twiml(update.get("Twiml", ""))
                click.echo(f"An agent took the call: Twilio redirects it to {update['Url']}")
                return call.redirect(update["Url"], update.get("Method", "POST"))
            time.sleep(POLL_S)
        click.echo("No agent took the call.")
        return turn


def read_line(prompt: str) -> str | None:
    """A line from the terminal; None on Ctrl-D or Ctrl-C, which hang up."""
    click.echo(prompt, nl=False)
    try:
        line = sys.stdin.readline()  # sys.stdin, so that click's CliRunner can feed it
    except KeyboardInterrupt:
        click.echo()
        return None
    if not line:
        click.echo()
        return None
    return line.rstrip("\n")


def describe_gather(turn: SimulatedTurn) -> str:
    gather = turn.gather
    if gather.num_digits:
        return f"{gather.num_digits} digit" + ("s" if gather.num_digits > 1 else "")
    if gather.finish_on_key:
        return f"digits, end with {gather.finish_on_key}"
    return "digits"


def show_turn(turn: SimulatedTurn) -> None:
    for speech in turn.spoken:
        click.echo("  " + describe(speech))
    if turn.connected:
        click.echo(f"[connecting you to agent: {turn.dial.describe()}]")
    if turn.enqueued:
        click.echo(f"[in queue {turn.queue.name!r}; the waiting caller hears:]")
        for speech in turn.hold:
            click.echo("    " + describe(speech))


def describe(speech: Speech) -> str:
    if speech.kind == "say":
        return f"[{speech.language or 'default'}] {speech.content}"
    if speech.kind == "play":
        return f"[audio: {speech.content}]"
    if speech.kind == "pause":
        return f"[pause {speech.content} s]"
    return f"[{speech.content}]"


def finish(call: SimulatedCall) -> None:
    """Twilio's status callback, whoever ended the call."""
    try:
        seconds = call.hang_up()
    except SimulatorError as exc:
        raise click.ClickException(f"status callback failed: {exc}") from exc
    if seconds is not None:  # None: already sent, when the app hung up the call
        click.echo(f"Status callback sent: completed after {seconds} s.")


def hang_up_quietly(call: SimulatedCall) -> None:
    """After a failed step, still end the call record; the step's error is what matters."""
    try:
        if call.started_at is not None:
            call.hang_up()
    except SimulatorError:
        pass
