"""The TwiML builders are pure: segments and URLs in, a document out, no app needed."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ivr import twiml
from voice_prompts import Play, Say

HELLO = [Say("Hello", "Polly.Joanna", "en-US"), Play("https://a.test/x.mp3")]


def parse(response) -> ET.Element:
    return ET.fromstring(str(response))


def test_ask_puts_the_prompt_inside_gather_so_callers_can_key_ahead():
    root = parse(twiml.ask(HELLO, action="/ivr/number?s=2", timeout=6, finish_on_key="#", num_digits=None))
    gather = root.find("Gather")
    assert gather.get("input") == "dtmf" and gather.get("finishOnKey") == "#"
    assert gather.get("actionOnEmptyResult") == "true" and gather.get("timeout") == "6"
    assert gather.get("numDigits") is None
    assert [child.tag for child in gather] == ["Say", "Play"]
    say = gather.find("Say")
    assert (say.get("voice"), say.get("language"), say.text) == ("Polly.Joanna", "en-US", "Hello")


def test_enqueue_names_the_queue_wait_and_action_urls():
    root = parse(twiml.enqueue(HELLO, queue="agents", wait_url="/ivr/queue/wait", action="/ivr/queue/left"))
    enqueue = root.find("Enqueue")
    assert enqueue.text == "agents"
    assert enqueue.get("waitUrl") == "/ivr/queue/wait" and enqueue.get("action") == "/ivr/queue/left"


def test_hold_speaks_then_plays_music():
    root = parse(twiml.hold(HELLO[:1], music_url="https://a.test/hold.mp3"))
    assert [child.tag for child in root] == ["Say", "Play"]


def test_say_and_hang_up_ends_with_hangup():
    root = parse(twiml.say_and_hang_up(HELLO))
    assert root[-1].tag == "Hangup"


def test_dial_agent_rings_a_browser_a_sip_phone_or_a_number():
    for kind, endpoint, tag in (
        ("client", "amira", "Client"),
        ("sip", "sip:amira@pbx.test", "Sip"),
        ("phone", "+9647501112222", "Number"),
    ):
        root = parse(
            twiml.dial_agent(
                HELLO[:1], kind=kind, endpoint=endpoint, action="/ivr/agent/done?call=1&agent=2", timeout=20
            )
        )
        assert [child.tag for child in root] == ["Say", "Dial"]
        dial = root.find("Dial")
        assert dial.get("action") == "/ivr/agent/done?call=1&agent=2" and dial.get("timeout") == "20"
        assert dial.get("answerOnBridge") == "true"
        assert [(child.tag, child.text) for child in dial] == [(tag, endpoint)]


def test_dial_agent_refuses_an_unknown_endpoint_kind():
    import pytest

    with pytest.raises(ValueError):
        twiml.dial_agent([], kind="fax", endpoint="x", action="/a", timeout=20)


def test_a_browser_is_rung_with_the_context_its_phone_shows():
    root = parse(
        twiml.dial_agent(
            HELLO[:1],
            kind="client",
            endpoint="amira",
            action="/a",
            timeout=20,
            context={"kind": "queue", "callId": "7", "caller": "0750 123 4567"},
        )
    )
    client = root.find("Dial/Client")
    assert client.findtext("Identity") == "amira"
    assert {p.get("name"): p.get("value") for p in client.findall("Parameter")} == {
        "kind": "queue",
        "callId": "7",
        "caller": "0750 123 4567",
    }


def test_a_sip_phone_or_a_number_gets_no_parameters():
    for kind, endpoint, tag in (("sip", "sip:amira@pbx.test", "Sip"), ("phone", "+9647501112222", "Number")):
        root = parse(
            twiml.dial_agent([], kind=kind, endpoint=endpoint, action="/a", timeout=20, context={"callId": "7"})
        )
        assert root.find(f"Dial/{tag}").text == endpoint and root.find(".//Parameter") is None
