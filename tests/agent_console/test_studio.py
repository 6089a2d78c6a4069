"""Can an admin record, upload, hear, approve and restore the IVR's clips in the studio, and
does a prompt switch to the recorded voice on every node once all its clips are approved?"""

from __future__ import annotations

import io
import time
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from domain.letters.importing import entity_code, import_csv
from extensions import db
from factory import create_app
from models import AuditEntry, PromptRecording, Role
from tests.support.ivr import agent_on_duty
from tests.support.prompts import CLIPPED, SILENCE, SPEECH, generated_audio, probe
from tests.support.records import add_user, csrf_token, logged_in_client, post_form
from tests.support.uploads import SENDER, straddling_csv
from tests.support.webhooks import Twilio

CLIP = "/console/studio/ckb/{name}"


@pytest.fixture
def admin(app):
    with app.app_context():
        add_user("adam", Role.admin)
    return logged_in_client(app, "adam")


def upload(client, name: str, audio: bytes, filename="take.wav", **headers):
    return client.post(
        CLIP.format(name=name) + "/takes",
        data={"csrf_token": csrf_token(client, CLIP.format(name=name)), "file": (io.BytesIO(audio), filename)},
        content_type="multipart/form-data",
        headers=headers,
    )


def takes(app, name: str) -> list[PromptRecording]:
    with app.app_context():
        return list(db.session.scalars(select(PromptRecording).where(PromptRecording.name == name)))


def approve(client, app, name: str) -> int:
    take = [t for t in takes(app, name) if t.is_current][0]
    response = post_form(client, CLIP.format(name=name) + f"/takes/{take.id}/approve")
    assert response.status_code == 303
    return take.id


def test_only_admins_open_the_studio(app):
    with app.app_context():
        add_user("sami", Role.supervisor)
    supervisor = logged_in_client(app, "sami")
    assert supervisor.get("/console/studio").status_code == 403
    assert supervisor.get(CLIP.format(name="welcome")).status_code == 403
    assert app.test_client().get("/console/studio").status_code == 302  # to the login page


def test_the_studio_lists_every_clip_with_its_script_and_state(app, admin):
    page = admin.get("/console/studio").get_data(as_text=True)
    assert "main_menu" in page and "digit.7" in page and "queue_position.1" in page
    assert "0 / " in page  # nothing approved yet
    filtered = admin.get("/console/studio?prompt=queue_position&state=missing").get_data(as_text=True)
    assert 'data-clip="queue_position.1"' in filtered and 'data-clip="main_menu"' not in filtered
    assert admin.get("/console/studio?state=approved").get_data(as_text=True).count("data-clip=") == 0


def test_an_uploaded_take_is_converted_kept_and_listened_to(app, admin):
    response = upload(admin, "welcome", generated_audio(SPEECH, ".wav"))
    assert response.status_code == 303
    [take] = takes(app, "welcome")
    assert take.is_current and not take.is_live and take.recorded_by == "adam"
    heard = admin.get(f"/console/studio/takes/{take.id}.mp3")
    found = probe(heard.data)
    assert (found["codec"], found["channels"], found["rate"]) == ("mp3", 1, 16000)
    assert heard.headers["ETag"] and "private" in heard.headers["Cache-Control"]
    page = admin.get("/console/studio?prompt=welcome").get_data(as_text=True)
    assert 'data-state="recorded"' in page and "adam" in page
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "prompt_take"))


@pytest.mark.parametrize(
    ("audio", "words"),
    [
        (lambda: generated_audio(SILENCE, ".wav"), "silent"),
        (lambda: generated_audio(CLIPPED, ".wav"), "clipped"),
        (lambda: generated_audio("sine=frequency=300:sample_rate=8000:duration=45", ".mp3"), "too long"),
        (lambda: b"%PDF-1.4 not audio at all", "not an audio file"),
    ],
)
def test_a_refused_take_says_why_and_keeps_nothing(app, admin, audio, words):
    response = upload(admin, "welcome", audio(), Accept="application/json")
    assert response.status_code == 422
    assert words in response.get_json()["error"]
    assert takes(app, "welcome") == []
    page = upload(admin, "welcome", audio())  # the form without script: the message on the page
    assert words in admin.get(page.headers["Location"]).get_data(as_text=True)


def test_an_upload_over_the_limit_is_refused_before_it_is_read(app, admin, monkeypatch):
    monkeypatch.setitem(app.config, "PROMPT_UPLOAD_MAX_BYTES", 1000)
    response = upload(admin, "welcome", b"\0" * 200_000, "big.wav", Accept="application/json")
    assert response.status_code == 413
    assert takes(app, "welcome") == []


def test_an_upload_without_the_csrf_token_is_refused(app, admin):
    response = admin.post(
        CLIP.format(name="welcome") + "/takes",
        data={"file": (io.BytesIO(generated_audio()), "t.wav")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert takes(app, "welcome") == []


def test_an_unknown_clip_or_language_is_not_found(admin):
    assert admin.get("/console/studio/ckb/no_such_clip").status_code == 404
    assert admin.get("/console/studio/xx/welcome").status_code == 404
    assert admin.get("/console/studio/takes/99999.mp3").status_code == 404


def test_earlier_takes_are_kept_and_restorable(app, admin):
    upload(admin, "welcome", generated_audio(SPEECH))
    first = approve(admin, app, "welcome")
    upload(admin, "welcome", generated_audio(SPEECH.replace("330", "440")))
    state = {t.id: (t.is_current, t.is_live) for t in takes(app, "welcome")}
    second = max(state)
    assert state == {first: (False, True), second: (True, False)}  # the approved one still plays
    assert post_form(admin, CLIP.format(name="welcome") + f"/takes/{first}/restore").status_code == 303
    state = {t.id: (t.is_current, t.is_live) for t in takes(app, "welcome")}
    assert state == {first: (True, True), second: (False, False)}
    assert post_form(admin, CLIP.format(name="welcome") + "/takes/99999/approve").status_code == 404


def test_a_new_entity_from_an_import_is_a_missing_clip(app, admin):
    with app.app_context():
        import_csv(io.BytesIO(straddling_csv()))
    page = admin.get("/console/studio?prompt=entity&state=missing").get_data(as_text=True)
    assert f"entity.{entity_code(SENDER)}" in page and SENDER in page


def test_the_preview_joins_a_prompts_clips_with_its_dynamic_parts(app, admin):
    upload(admin, "queue_position.1", generated_audio(SPEECH))
    page = admin.get("/console/studio?prompt=queue_position").get_data(as_text=True)
    sequence = page[page.index('id="preview-sequence">') :]
    assert "queue_position.1" in page and "count.3" in page and "queue_position.2" in page
    [take] = takes(app, "queue_position.1")
    assert f"/console/studio/takes/{take.id}.mp3" in sequence.split("</script>")[0]


def hold_twiml(client) -> ET.Element:
    response = Twilio(client).post("/ivr/queue/wait?lang=ckb", QueuePosition="3")
    assert response.status_code == 200
    return ET.fromstring(response.data)


def clips_played(twiml: ET.Element) -> list[str]:
    """The recorded prompts of the answer (the hold music is played too)."""
    return [play.text or "" for play in twiml.iter("Play") if "/ivr/audio/" in (play.text or "")]


def test_a_prompt_switches_to_kurdish_on_another_node_once_all_its_clips_are_approved(app, admin):
    """Node A (the studio) approves; node B, another app on the same database, never restarted."""
    settings = {k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "PUBLIC_BASE_URL", "TWILIO_AUTH_TOKEN")}
    other = create_app({**settings, "APP_ENV": "testing", "SECRET_KEY": "x", "PROMPT_CLIPS_CACHE_SECONDS": 1})
    node_b = other.test_client()
    with app.app_context():
        agent_on_duty()
    before = hold_twiml(node_b)
    assert clips_played(before) == [] and before.find("Say").get("language") == app.config["VOICE_AR_LANGUAGE"]
    for name in ("queue_position.1", "count.3"):
        upload(admin, name, generated_audio(SPEECH))
        approve(admin, app, name)
    time.sleep(1.1)
    assert clips_played(hold_twiml(node_b)) == []  # queue_position.2 is not approved yet
    upload(admin, "queue_position.2", generated_audio(SPEECH))
    last = approve(admin, app, "queue_position.2")
    deadline = time.monotonic() + 10
    while (played := clips_played(hold_twiml(node_b))) == [] and time.monotonic() < deadline:
        time.sleep(0.2)
    clips = [url.split("/ivr/audio/ckb/")[1] for url in played[:3]]
    assert [clip.split("?")[0] for clip in clips] == ["queue_position.1.mp3", "count.3.mp3", "queue_position.2.mp3"]
    assert clips[2].endswith(f"?v={last}")
    audio = node_b.get("/ivr/audio/ckb/" + clips[2])
    found = probe(audio.data)
    assert (found["codec"], found["channels"], found["rate"]) == ("mp3", 1, 16000)
    assert "immutable" in audio.headers["Cache-Control"]


def test_the_kpi_page_shows_the_kurdish_voice_coverage(app, admin):
    with app.app_context():
        add_user("sami", Role.supervisor)
    page = logged_in_client(app, "sami").get("/console/kpis").get_data(as_text=True)
    assert 'id="kurdish-voice"' in page and "0%" in page
