"""`flask ivr simulate`: a call to 5599 in the terminal, over signed webhooks."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from simulator.engine import (
    DEFAULT_CALLER, FlaskTransport, HttpTransport, SimulatedCall, SimulatedTurn, SimulatorError,
    Speech, check_keys,
)

ivr = AppGroup("ivr", help="The voice IVR.")
HANG_UP = "h"


@ivr.command("simulate")
@click.option("--from", "caller", default=DEFAULT_CALLER, show_default=True,
              help='The caller\'s number; "anonymous" for a withheld number.')
@click.option("--url", "base_url", default=None,
              help="Post to a running server at this base URL instead of in-process. "
                   "Requests are signed for PUBLIC_BASE_URL with TWILIO_AUTH_TOKEN, "
                   "so both must match the server's.")
@click.option("--keys", default=None,
              help='Comma separated presses, e.g. "3,1,1234#,1,15032024,1"; an empty '
                   'entry is silence, "h" hangs up. Runs without prompting.')
def simulate(caller: str, base_url: str | None, keys: str | None) -> None:
    """Play a call to the IVR: print what it says and send the keys you press."""
    presses = parse_keys(keys) if keys is not None else None
    call = SimulatedCall(transport(base_url), caller)
    click.echo(f"Calling 5599 from {call.caller} (call {call.sid})")
    try:
        play(call, presses)
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
        if press.lower() != HANG_UP:
            try:
                check_keys(press)
            except ValueError as exc:
                raise click.BadParameter(f"{press!r}: {exc}", param_hint="--keys") from exc
    return presses


def play(call: SimulatedCall, presses: list[str] | None) -> None:
    """Speak each turn, then ask for keys (from --keys or the terminal) until the call ends."""
    turn = call.start()
    while True:
        show_turn(turn)
        if turn.ended:
            click.echo("The IVR ended the call.")
            return
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
    click.echo(f"Status callback sent: completed after {seconds} s.")


def hang_up_quietly(call: SimulatedCall) -> None:
    """After a failed step, still end the call record; the step's error is what matters."""
    try:
        if call.started_at is not None:
            call.hang_up()
    except SimulatorError:
        pass
