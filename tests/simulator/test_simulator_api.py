"""Does the development page's JSON API play a call, and refuse every bad body with a 400?"""

from __future__ import annotations

import pytest

from factory import create_app
from models import Outcome
from tests.support.simulator import add_letter, stored_call

# An agent is on duty: a caller who presses 0 is queued (with nobody, the IVR offers a callback).
pytestmark = pytest.mark.usefixtures("someone_on_duty")

API = "/dev/simulator/api/"


def post(client, path: str, body):
    return client.post(API + path, json=body)


def press(client, turn: dict, digits: str):
    gather = turn["gather"]
    response = post(
        client,
        "press",
        {
            "call_sid": turn["call_sid"],
            "caller": turn["caller"],
            "digits": digits,
            "action_url": gather["action_url"],
            "num_digits": gather["num_digits"],
            "finish_on_key": gather["finish_on_key"],
        },
    )
    assert response.status_code == 200, response.json
    return response.json


def texts(turn: dict) -> list[str]:
    return [speech["text"] for speech in turn["spoken"]]


def test_the_page_has_a_keypad_call_and_hang_up_buttons(client):
    response = client.get("/dev/simulator/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for key in "0123456789*#":
        assert f'data-key="{key}"' in page
    assert 'id="call"' in page and 'id="hangup"' in page and 'id="withheld"' in page
    assert "/dev/simulator/static/simulator.js" in page
    assert client.get("/dev/simulator/static/simulator.js").status_code == 200
    assert client.get("/dev/simulator/static/simulator.css").status_code == 200


def test_start_answers_the_greeting_as_json(client):
    response = post(client, "start", {"caller": "+9647501234567"})
    assert response.status_code == 200
    turn = response.json
    assert turn["state"] == "waiting"
    assert turn["caller"] == "+9647501234567"
    assert turn["gather"]["action_url"].startswith("/ivr/language?")
    assert turn["gather"]["num_digits"] == 1
    assert {"kind": "say", "text": "For English, press 3.", "language": "en-US"} in turn["spoken"]


def test_a_whole_call_through_the_api_to_the_queue_and_a_hang_up(app, client):
    turn = post(client, "start", {}).json
    for digits in ["3", "1", "1234#", "1", "15032024", "1"]:
        turn = press(client, turn, digits)
    assert "We could not find a letter with this number and date. Please check both and try again." in texts(turn)

    turn = press(client, turn, "0")
    assert turn["state"] == "queued" and turn["gather"] is None
    assert turn["queue"]["action_url"].startswith("/ivr/queue/left?")
    assert "You are next in line. Thank you for waiting." in [s["text"] for s in turn["hold"]]

    response = post(
        client,
        "hangup",
        {
            "call_sid": turn["call_sid"],
            "caller": turn["caller"],
            "queue_action_url": turn["queue"]["action_url"],
            "duration": 37,
        },
    )
    assert response.status_code == 200 and response.json["state"] == "ended"
    record = stored_call(app, turn["call_sid"])
    assert record.outcome is Outcome.abandoned_in_queue and record.duration_s == 37


def test_a_known_letter_through_the_api(app, client):
    add_letter(app)
    turn = post(client, "start", {}).json
    for digits in ["3", "1", "1234#", "1", "15032024", "1"]:
        turn = press(client, turn, digits)
    assert texts(turn)[0].startswith("This letter has been forwarded.")


def test_a_withheld_caller(app, client):
    turn = post(client, "start", {"withheld": True}).json
    assert turn["caller"] == "anonymous"
    turn = press(client, turn, "3")
    assert turn["state"] == "waiting"
    assert stored_call(app, turn["call_sid"]).caller is None


SID = "CA" + "ab" * 16
GOOD_PRESS = {
    "call_sid": SID,
    "caller": "+9647501234567",
    "action_url": "/ivr/menu?lang=en&s=2",
    "digits": "1",
    "num_digits": 1,
    "finish_on_key": "#",
}


@pytest.mark.parametrize(
    "path, body, message",
    [
        ("start", {"caller": "not a number"}, "caller must be a phone number"),
        ("start", {"caller": ""}, "caller must be a phone number"),
        ("start", {"caller": 9647501234567}, "caller must be a phone number"),
        ("start", {"withheld": "yes"}, "withheld must be true or false"),
        ("start", [], "the body must be a JSON object"),
        ("press", {**GOOD_PRESS, "call_sid": "CA123"}, "call_sid must be"),
        ("press", {k: v for k, v in GOOD_PRESS.items() if k != "call_sid"}, "call_sid must be"),
        (
            "press",
            {**GOOD_PRESS, "action_url": "https://evil.example/ivr/menu"},
            "action_url must be a relative /ivr/ path",
        ),
        ("press", {**GOOD_PRESS, "action_url": "/dev/simulator/api/start"}, "action_url must be a relative /ivr/ path"),
        (
            "press",
            {**GOOD_PRESS, "action_url": "/ivr/../dev/simulator/api/start"},
            "action_url must be a relative /ivr/ path",
        ),
        ("press", {**GOOD_PRESS, "action_url": "//evil.example/ivr/"}, "action_url must be a relative /ivr/ path"),
        ("press", {**GOOD_PRESS, "action_url": None}, "action_url must be a relative /ivr/ path"),
        ("press", {**GOOD_PRESS, "digits": "12a"}, "digits must be only the digits 0-9, * and #"),
        ("press", {**GOOD_PRESS, "digits": 12}, "digits must be only"),
        ("press", {**GOOD_PRESS, "digits": "1" * 65}, "digits must be only"),
        ("press", {**GOOD_PRESS, "num_digits": True}, "num_digits must be a whole number"),
        ("press", {**GOOD_PRESS, "num_digits": 0}, "num_digits must be a whole number"),
        ("press", {**GOOD_PRESS, "num_digits": "1"}, "num_digits must be a whole number"),
        ("press", {**GOOD_PRESS, "finish_on_key": "##"}, "finish_on_key must be one key"),
        ("hangup", {"call_sid": SID, "caller": "+9647501234567", "duration": -1}, "duration must be a whole number"),
        (
            "hangup",
            {"call_sid": SID, "caller": "+9647501234567", "queue_action_url": "/elsewhere"},
            "queue_action_url must be",
        ),
    ],
)
def test_a_bad_body_is_a_400_that_says_why(client, path, body, message):
    response = post(client, path, body)
    assert response.status_code == 400
    assert message in response.json["error"]


@pytest.mark.parametrize(
    "data, content_type",
    [
        ("{not json", "application/json"),
        ("call_sid=CA1", "application/x-www-form-urlencoded"),
        ("", "application/json"),
        ('"a string"', "application/json"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_400(client, data, content_type):
    response = client.post(API + "press", data=data, content_type=content_type)
    assert response.status_code == 400
    assert "JSON" in response.json["error"]


def test_an_ivr_error_is_reported_as_a_bad_gateway_not_a_500(client):
    response = post(client, "press", {**GOOD_PRESS, "action_url": "/ivr/no-such-step"})
    assert response.status_code == 502
    assert "POST /ivr/no-such-step answered HTTP 404" in response.json["error"]


def test_the_api_only_answers_outside_production_even_if_registered(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    assert client.get("/dev/simulator/").status_code == 404
    assert post(client, "start", {}).status_code == 404


def test_a_production_app_has_no_simulator(database_url):
    production = create_app(
        {
            "APP_ENV": "production",
            "SECRET_KEY": "s",
            "TWILIO_AUTH_TOKEN": "t",
            "SQLALCHEMY_DATABASE_URI": database_url,
        }
    )
    client = production.test_client()
    assert client.get("/dev/simulator/").status_code == 404
    assert client.post(API + "start", json={}).status_code == 404
