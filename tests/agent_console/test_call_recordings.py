"""Recordings (RECORDING_ENABLED): the notice and the record options Twilio is sent, the
signed recording status callback stored, supervisors playing a recording through the app
(agents refused, audited, byte ranges passed on), deleting it at Twilio on request."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from extensions import db
from models import AuditEntry, Call, CallRecording, Role
from tests.support.conference import connected_call, control
from tests.support.console import agent_client, csrf_token
from tests.support.webhooks import PUBLIC_BASE_URL


@pytest.fixture
def recorded(app, monkeypatch):
    monkeypatch.setitem(app.config, "CALL_CONFERENCES", True)
    monkeypatch.setitem(app.config, "RECORDING_ENABLED", True)


def audited(call_id: int, action: str) -> int:
    db.session.rollback()
    return len(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.target_id == str(call_id), AuditEntry.action == action)
        ).all()
    )


def a_recording(app, client, twilio_api, seconds: int = 2):
    """A connected call whose agent leg Twilio recorded, its status callback posted."""
    agent, call, caller, _ = connected_call(app, client, twilio_api)
    sid = twilio_api.add_recording(seconds)
    answer = caller.post(
        f"/ivr/recording/status?call={call.id}",
        RecordingSid=sid,
        RecordingStatus="completed",
        RecordingDuration="42",
        RecordingChannels="2",
        CallSid=call.agent_leg_sid,
    )
    assert answer.status_code == 204
    db.session.rollback()
    return agent, db.session.get(Call, call.id), caller, sid


def test_the_agents_leg_is_recorded_in_two_channels_after_a_notice(app, app_context, client, twilio_api, recorded):
    _, call, _, body = connected_call(app, client, twilio_api)
    [create] = [r for r in twilio_api.conference_requests() if r.path.endswith("/Participants.json")]
    assert create.form["Record"] == "true" and create.form["RecordingChannels"] == "dual"
    assert create.form["RecordingStatusCallback"] == f"{PUBLIC_BASE_URL}/ivr/recording/status?call={call.id}"
    assert create.form["RecordingStatusCallbackMethod"] == "POST"
    # A list: the parameter repeated (completed, absent); the stand-in keeps the last one.
    assert create.form["RecordingStatusCallbackEvent"] == "absent"
    # The caller is told before joining: the notice comes before the <Dial>.
    assert "recorded" in body[: body.index("<Dial")]
    assert 'record="' not in body  # the conference itself is not recorded, only the agent's leg


def test_nothing_is_recorded_and_nothing_said_when_recording_is_off(app, app_context, client, twilio_api, monkeypatch):
    monkeypatch.setitem(app.config, "CALL_CONFERENCES", True)
    _, _, _, body = connected_call(app, client, twilio_api)
    [create] = [r for r in twilio_api.conference_requests() if r.path.endswith("/Participants.json")]
    assert "Record" not in create.form and "recorded" not in body


def test_the_notice_is_in_each_language_and_a_clip_to_record_in_kurdish(app):
    from voice_prompts import all_clip_scripts, catalog

    assert {lang: "recording_notice" in catalog(lang) for lang in ("ar", "ckb", "en")} == {
        "ar": True,
        "ckb": True,
        "en": True,
    }
    assert "recording_notice" in all_clip_scripts("ckb")


def test_the_signed_recording_callback_is_stored_once(app, app_context, client, twilio_api, recorded):
    _, call, caller, sid = a_recording(app, client, twilio_api)
    again = caller.post(
        f"/ivr/recording/status?call={call.id}", RecordingSid=sid, RecordingStatus="completed", RecordingDuration="42"
    )
    assert again.status_code == 204
    [row] = db.session.scalars(select(CallRecording)).all()
    assert (row.call_id, row.recording_sid, row.status, row.duration_s, row.channels) == (
        call.id,
        sid,
        "completed",
        42,
        2,
    )
    unsigned = caller.post(f"/ivr/recording/status?call={call.id}", signed=False, RecordingSid="RE" + "9" * 32)
    assert unsigned.status_code == 403
    nonsense = caller.post("/ivr/recording/status?call=abc", RecordingSid="x", RecordingStatus="completed")
    assert nonsense.status_code == 204
    assert db.session.scalar(select(db.func.count()).select_from(CallRecording)) == 1


def test_a_supervisor_plays_the_recording_through_the_app_and_it_is_audited(
    app, app_context, client, twilio_api, recorded
):
    agent, call, _, sid = a_recording(app, client, twilio_api)
    [row] = db.session.scalars(select(CallRecording)).all()
    supervisor = agent_client(app, "sami", role=Role.supervisor)
    page = supervisor.get(f"/console/calls/{call.id}/timeline").get_data(as_text=True)
    audio_url = f"/console/calls/{call.id}/recordings/{row.id}.mp3"
    assert f'src="{audio_url}"' in page
    assert "twilio.com" not in page and sid not in page and twilio_api.url not in page

    whole = supervisor.get(audio_url)
    assert whole.status_code == 200 and whole.mimetype == "audio/mpeg"
    assert whole.data == twilio_api.recordings[sid] and whole.headers["Cache-Control"] == "no-store"
    [fetch] = twilio_api.recording_requests()
    assert fetch.method == "GET" and fetch.path.endswith(f"/Recordings/{sid}.mp3")
    assert audited(call.id, "play_recording") == 1

    part = supervisor.get(audio_url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and len(part.data) == 100
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(twilio_api.recordings[sid])}"
    assert audited(call.id, "play_recording") == 1  # seeking within a play is not a new play

    # Agents never: neither the call's own agent nor the page.
    assert agent.get(audio_url).status_code == 403
    assert supervisor.get(f"/console/calls/{call.id}/recordings/999999.mp3").status_code == 404
    assert supervisor.get(audio_url, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403


def test_twilio_failing_to_serve_the_media_is_said_not_a_500(app, app_context, client, twilio_api, recorded):
    _, call, _, _ = a_recording(app, client, twilio_api)
    [row] = db.session.scalars(select(CallRecording)).all()
    supervisor = agent_client(app, "sami", role=Role.supervisor)
    twilio_api.fail("GET", r"/Recordings/", 500)
    answer = supervisor.get(f"/console/calls/{call.id}/recordings/{row.id}.mp3")
    assert answer.status_code == 502 and audited(call.id, "play_recording") == 0


def test_a_supervisor_deletes_the_recording_at_twilio(app, app_context, client, twilio_api, recorded):
    agent, call, _, sid = a_recording(app, client, twilio_api)
    [row] = db.session.scalars(select(CallRecording)).all()
    supervisor = agent_client(app, "sami", role=Role.supervisor)
    url = f"/console/calls/{call.id}/recordings/{row.id}/delete"
    token = csrf_token(supervisor, f"/console/calls/{call.id}/timeline")
    assert agent.post(url, data={"csrf_token": csrf_token(agent, "/console/")}).status_code == 403

    twilio_api.fail("DELETE", r"/Recordings/", 500)
    refused = supervisor.post(url, data={"csrf_token": token})
    assert refused.status_code == 303 and sid in twilio_api.recordings
    db.session.rollback()
    assert db.session.get(CallRecording, row.id).deleted_at is None
    twilio_api.failing.clear()

    done = supervisor.post(url, data={"csrf_token": token})
    assert done.status_code == 303 and sid not in twilio_api.recordings
    delete = twilio_api.recording_requests()[-1]
    assert delete.method == "DELETE" and delete.path.endswith(f"/Recordings/{sid}.json")
    db.session.rollback()
    assert db.session.get(CallRecording, row.id).deleted_at is not None
    assert audited(call.id, "delete_recording") == 1
    page = supervisor.get(f"/console/calls/{call.id}/timeline").get_data(as_text=True)
    assert "recordings/" not in page
    assert supervisor.get(f"/console/calls/{call.id}/recordings/{row.id}.mp3").status_code == 404


def test_hold_still_works_on_a_recorded_call(app, app_context, client, twilio_api, recorded):
    agent, call, _, _ = connected_call(app, client, twilio_api)
    assert control(agent, call, "hold").status_code == 200


def test_the_recording_on_the_timeline_in_arabic_and_kurdish(app, app_context, client, twilio_api, recorded):
    _, call, _, _ = a_recording(app, client, twilio_api)
    for name, lang, words in (("sami", "ar", "حذف التسجيل"), ("rezan", "ckb", "سڕینەوەی تۆمارەکە")):
        supervisor = agent_client(app, name, role=Role.supervisor, language=lang)
        page = supervisor.get(f"/console/calls/{call.id}/timeline").get_data(as_text=True)
        assert words in page, lang
