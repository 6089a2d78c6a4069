"""Does the Twilio REST stand-in answer the real `twilio` client as Twilio would?"""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from telephony.rest import twilio_client

SID = "CA" + "a" * 32


def test_redirecting_a_live_call(app, twilio_api):
    with app.app_context():
        call = twilio_client().calls(SID).update(url="https://hotline.example.test/ivr/x?call=1", method="POST")
    assert call.sid == SID and call.status == "in-progress"
    [request] = twilio_api.calls_updated(SID)
    assert request.form == {"Url": "https://hotline.example.test/ivr/x?call=1", "Method": "POST"}


def test_redirecting_a_call_that_ended_fails_like_twilio(app, twilio_api):
    twilio_api.end_call(SID)
    with app.app_context(), pytest.raises(TwilioRestException) as raised:
        twilio_client().calls(SID).update(url="https://hotline.example.test/ivr/x", method="POST")
    assert raised.value.status == 400 and raised.value.code == 21220
    assert "not in-progress" in raised.value.msg


def test_placing_a_call_and_sending_a_message(app, twilio_api):
    with app.app_context():
        call = twilio_client().calls.create(
            to="+9647501234567", from_="+9645599", url="https://hotline.example.test/ivr/callback/connect"
        )
        message = twilio_client().messages.create(to="+9647501234567", from_="+9645599", body="hello")
    assert call.sid.startswith("CA") and call.status == "queued"
    assert message.sid.startswith("SM") and message.body == "hello" and message.status == "queued"
    paths = [request.path.rsplit("/", 1)[-1] for request in twilio_api.requests]
    assert paths == ["Calls.json", "Messages.json"]


def test_a_wrong_token_is_refused(app, twilio_api):
    client = Client(app.config["TWILIO_ACCOUNT_SID"], "wrong-token")
    client.api.base_url = twilio_api.url
    with pytest.raises(TwilioRestException) as raised:
        client.calls(SID).update(url="https://hotline.example.test/x")
    assert raised.value.status == 401 and raised.value.code == 20003


def test_a_participant_given_twiml_plays_it_and_is_back_in_the_conference_it_names(app, twilio_api):
    with app.app_context():
        conference = twilio_client().conferences("hotline-call-9")
        leg = conference.participants.create(from_="+9645599", to="+9647700000002", end_conference_on_exit=False)
        back = (
            '<Response><Play digits="w12#"/><Dial><Conference endConferenceOnExit="false" '
            'participantLabel="consult-number">hotline-call-9</Conference></Dial></Response>'
        )
        twilio_client().calls(leg.call_sid).update(twiml=back)
        state = twilio_api.participant(leg.call_sid)
        assert twilio_api.played_digits[leg.call_sid] == ["w12#"]
        assert (leg.conference_sid, leg.call_sid) in twilio_api.participants
        assert state["label"] == "consult-number" and state["end_conference_on_exit"] is False
        assert state["to"] == "+9647700000002" and state["start_conference_on_enter"] is True

        # TwiML without the conference: the call leaves it, as on Twilio.
        twilio_client().calls(leg.call_sid).update(twiml='<Response><Play digits="1"/></Response>')
        assert twilio_api.participant(leg.call_sid) is None and twilio_api.played_digits[leg.call_sid][-1] == "1"
        with pytest.raises(TwilioRestException) as raised:
            twilio_client().calls(leg.call_sid).update(twiml="<Response><Play")
    assert raised.value.status == 400 and raised.value.code == 12100
