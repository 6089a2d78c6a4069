"""Pure TwiML builders: speech segments and URLs in, a VoiceResponse out. No app, no database."""

from __future__ import annotations

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from voice_prompts import Play, Say


def add_speech(verb, segments) -> None:
    for segment in segments:
        if isinstance(segment, Say):
            verb.say(segment.text, voice=segment.voice, language=segment.language)
        elif isinstance(segment, Play):
            verb.play(segment.url)
        else:  # pragma: no cover - a programming error, not caller input
            raise TypeError(f"cannot speak {segment!r}")


def ask(
    segments, *, action: str, timeout: int, num_digits: int | None = None, finish_on_key: str | None = None
) -> VoiceResponse:
    """Speak inside <Gather> so that callers can key ahead; silence comes back to `action`."""
    response = VoiceResponse()
    options = {
        "input": "dtmf",
        "action": action,
        "method": "POST",
        "timeout": timeout,
        "action_on_empty_result": True,
    }
    if num_digits is not None:
        options["num_digits"] = num_digits
    if finish_on_key is not None:
        options["finish_on_key"] = finish_on_key
    gather = Gather(**options)
    add_speech(gather, segments)
    response.append(gather)
    return response


def say_and_hang_up(segments) -> VoiceResponse:
    response = VoiceResponse()
    add_speech(response, segments)
    response.hangup()
    return response


def enqueue(segments, *, queue: str, wait_url: str, action: str) -> VoiceResponse:
    """Put the caller in the agents' queue; Twilio calls `action` when they leave it."""
    response = VoiceResponse()
    add_speech(response, segments)
    response.enqueue(queue, wait_url=wait_url, wait_url_method="POST", action=action, method="POST")
    return response


def hold(segments, *, music_url: str) -> VoiceResponse:
    """What a waiting caller hears; Twilio fetches the wait URL again when it ends."""
    response = VoiceResponse()
    add_speech(response, segments)
    response.play(music_url)
    return response


def leave_queue(segments) -> VoiceResponse:
    """From the wait URL: say why, then leave the queue; Twilio goes on with the <Enqueue action>."""
    response = VoiceResponse()
    add_speech(response, segments)
    response.leave()
    return response


def dial_agent(
    segments, *, kind: str, endpoint: str, action: str, timeout: int, context: dict[str, str] | None = None
) -> VoiceResponse:
    """Ring the agent who took the call: a browser (Twilio Client), a SIP phone or a number.

    `answerOnBridge` keeps the caller hearing ringing, not silence, until the agent picks up;
    Twilio posts to `action` when the agent's leg ends, answered or not. A browser also gets
    `context` (who is calling, which call) as <Parameter>s, which its phone shows.
    """
    response = VoiceResponse()
    add_speech(response, segments)
    dial = Dial(action=action, method="POST", timeout=timeout, answer_on_bridge=True)
    if kind == "client" and context:
        client = dial.client()
        client.identity(endpoint)
        for name, value in context.items():
            client.parameter(name=name, value=value)
    elif kind == "client":
        dial.client(endpoint)
    elif kind == "sip":
        dial.sip(endpoint)
    elif kind == "phone":
        dial.number(endpoint)
    else:
        raise ValueError(f"no way to dial an endpoint of kind {kind!r}")
    response.append(dial)
    return response


def conference(
    segments,
    *,
    name: str,
    action: str,
    wait_url: str,
    status_callback: str,
    events: str,
) -> VoiceResponse:
    """The caller joins the call's conference, where the agent is being rung in by REST.

    The caller neither starts the conference (they hear `wait_url` until the agent joins)
    nor may it go on without them (`endConferenceOnExit`): when they hang up, everyone
    else's part ends too. Twilio posts `action` when the caller leaves the conference.
    """
    response = VoiceResponse()
    add_speech(response, segments)
    dial = Dial(action=action, method="POST")
    dial.conference(
        name,
        start_conference_on_enter=False,
        end_conference_on_exit=True,
        beep=False,
        wait_url=wait_url,
        wait_method="POST",
        status_callback=status_callback,
        status_callback_method="POST",
        status_callback_event=events,
    )
    response.append(dial)
    return response


def hold_audio(segments, *, music_url: str) -> VoiceResponse:
    """A conference's hold or wait URL: only <Say>, <Play>, <Pause> and <Redirect> are allowed
    there. The line once, then the music without end (`loop="0"`)."""
    response = VoiceResponse()
    add_speech(response, segments)
    response.play(music_url, loop=0)
    return response


def tones_then_conference(
    digits: str, *, name: str, label: str | None, start_conference_on_enter: bool, end_conference_on_exit: bool
) -> VoiceResponse:
    """For a participant's call (REST `twiml`): play `digits` as tones (DTMF; `w` waits half a
    second) to that party, then put them back in the conference `name` as they were in it.

    Twilio's conference participants cannot be sent tones; a call given new TwiML leaves its
    conference, hears this, and joins it again. No beep: the others hear nobody come and go.
    """
    response = VoiceResponse()
    response.play(digits=digits)
    dial = Dial()
    dial.conference(
        name,
        start_conference_on_enter=start_conference_on_enter,
        end_conference_on_exit=end_conference_on_exit,
        beep=False,
        participant_label=label,
    )
    response.append(dial)
    return response
