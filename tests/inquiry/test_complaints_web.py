"""The public complaint pages: every field checked in the citizen's language, nothing typed lost,
the contact proven by a one-time code before filing, files checked by content, and following a
complaint without telling a stranger whether a code and a contact belong together."""

from __future__ import annotations

import io
import re
import tomllib
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from flask import g, has_app_context
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image
from sqlalchemy import func, select, update

from domain.clock import utcnow
from domain.complaints import handling
from domain.complaints.codes import new_code, spaced
from extensions import db
from models import (
    Complaint,
    ComplaintAttachment,
    ComplaintStatus,
    EmailMessage,
    OneTimeCode,
    PendingComplaint,
    Role,
    SmsKind,
    SmsMessage,
    Verification,
)
from tests.support.complaints import add_category, add_complaint, add_entity
from tests.support.files import GPS_IFD, exe, jpeg_with_gps, pdf, png
from tests.support.records import add_user

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
OTP = re.compile(r"\b(\d{6})\b")
TEXTS = tomllib.loads(Path("inquiry/complaints.toml").read_text(encoding="utf-8"))
ADDRESS = "203.0.113.9"


def words(lang: str, key: str) -> str:
    return TEXTS[lang][key]


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def places(app_context):
    entity = add_entity()
    category = add_category()
    db.session.commit()
    return {"entity_id": str(entity.id), "category_id": str(category.id)}


def csrf(client, path="/complaints?lang=en") -> str:
    if has_app_context():  # requests share the test's app context: forget the last client's token
        g.pop("csrf_token", None)
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def filled(places, **overrides) -> dict:
    values = {
        "kind": "service",
        "category_id": places["category_id"],
        "entity_id": places["entity_id"],
        "governorate": "erbil",
        "description": "The clinic refused my referral papers three times without a reason.",
        "name": "Hawre Ahmed",
        "phone": "0750 123 4567",
        "email": "",
        "national_id": "",
        "declared_adult": "1",
        "declared_citizen": "1",
        "lang": "en",
        "action": "send",
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def post(client, data: dict, files=(), address=ADDRESS, path="/complaints"):
    data = dict(data)
    data["csrf_token"] = csrf(client)
    if files:
        data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(
        path,
        query_string={"lang": data.get("lang", "ar")},  # as the form's action says it
        data=data,
        content_type="multipart/form-data",
        environ_base={"REMOTE_ADDR": address},
    )


def form_post(client, path: str, data: dict, address=ADDRESS):
    data = dict(data)
    data["csrf_token"] = csrf(client, "/complaints/track")  # a page that leaves the complaint alone
    return client.post(path, data=data, environ_base={"REMOTE_ADDR": address})


def last_sms_code(phone="+9647501234567") -> str:
    db.session.expire_all()
    body = db.session.scalar(
        select(SmsMessage.body)
        .where(SmsMessage.kind == SmsKind.code, SmsMessage.to_phone == phone)
        .order_by(SmsMessage.id.desc())
    )
    return OTP.search(body).group(1)


def complaints() -> list[Complaint]:
    db.session.expire_all()
    return list(db.session.scalars(select(Complaint)).all())


# --- the form --------------------------------------------------------------------------


def test_the_form_speaks_three_languages_right_to_left_for_arabic_and_kurdish(client, places):
    arabic = text(client.get("/complaints"))
    assert 'lang="ar" dir="rtl"' in arabic and words("ar", "form_title") in arabic
    kurdish = text(client.get("/complaints?lang=ckb"))
    assert 'lang="ckb" dir="rtl"' in kurdish and words("ckb", "declared_citizen") in kurdish
    english = text(client.get("/complaints?lang=en"))
    assert 'lang="en" dir="ltr"' in english and "KRG Ministry of Health" in english
    assert "<script" not in english  # works without JavaScript


def test_the_home_page_links_to_filing_and_following(client):
    page = text(client.get("/?lang=en"))
    assert 'href="/complaints?lang=en"' in page and "File a complaint" in page
    assert 'href="/complaints/track?lang=en"' in page and "Follow a complaint" in page


@pytest.mark.parametrize("lang", ["ar", "ckb", "en"])
def test_every_missing_field_has_its_own_message_in_the_language(client, places, lang):
    empty = {"lang": lang, "action": "send", "description": "short"}
    answer = post(client, empty)
    page = text(answer)
    assert answer.status_code == 400
    for key in (
        "p.kind.choose",
        "p.category_id.choose",
        "p.entity_id.choose",
        "p.governorate.choose",
        "p.description.too_short",
        "p.name.required",
        "p.phone.phone_or_email",
        "p.declared_adult.required",
        "p.declared_citizen.required",
    ):
        assert words(lang, key) in page, key
    assert 'aria-invalid="true"' in page


@pytest.mark.parametrize("lang", ["ar", "ckb", "en"])
def test_badly_typed_contacts_and_ids_are_named(client, places, lang):
    answer = post(
        client, filled(places, lang=lang, phone="12", email="not an address", national_id="12ab", kind="employee")
    )
    page = text(answer)
    assert answer.status_code == 400
    for key in ("p.phone.not_a_number", "p.email.not_an_email", "p.national_id.digits", "p.category_id.other_kind"):
        assert words(lang, key) in page, key


def test_the_entity_list_is_filtered_on_the_server_and_the_rest_is_kept(client, places, app):
    with app.app_context():
        add_entity("krg-education", "وزارة التربية", "KRG Ministry of Education")
        db.session.commit()
    answer = post(client, filled(places, action="filter", entity_filter="educ", entity_id=""))
    page = text(answer)
    assert answer.status_code == 200
    assert "KRG Ministry of Education" in page and "KRG Ministry of Health" not in page
    assert "three times without a reason" in page and 'value="Hawre Ahmed"' in page


def test_nothing_typed_is_lost_when_a_file_is_refused(client, places):
    description = "موظف الاستعلامات رفض استلام طلبي ثلاث مرات دون أي سبب."
    answer = post(
        client,
        filled(places, lang="ar", description=description, national_id="19901234567", hide_identity="1"),
        files=[("virus.pdf", exe()), ("photo.jpg", jpeg_with_gps())],
    )
    page = text(answer)
    assert answer.status_code == 400
    assert description in page and 'value="19901234567"' in page
    assert "virus.pdf" in page and words("ar", "file.type") in page
    assert "photo.jpg" in page and 'data-test="kept-files"' in page  # the good one was kept
    assert re.search(r'name="hide_identity" value="1" checked', page)
    # The next post needs no file again: the kept photo goes on with the complaint.
    again = post(client, filled(places, lang="ar", description=description))
    assert again.status_code == 303 and again.headers["Location"].startswith("/complaints/verify")


# --- verification and filing -----------------------------------------------------------


def file_through(client, places, **overrides):
    answer = post(client, filled(places, **overrides), files=overrides.pop("files", ()))
    assert answer.status_code == 303, text(answer)[:2000]
    return answer


def test_the_code_from_the_sms_files_the_complaint_once(client, places):
    answer = post(client, filled(places), files=[("photo.jpg", jpeg_with_gps())])
    assert answer.status_code == 303
    verify = text(client.get(answer.headers["Location"]))
    assert "+964…4567" in verify
    assert complaints() == []  # nothing is filed before the code checks
    wrong = form_post(client, "/complaints/verify", {"code": "000000", "lang": "en", "action": "check"})
    assert wrong.status_code == 400 and words("en", "check.wrong") in text(wrong)
    code = last_sms_code()
    right = form_post(client, "/complaints/verify", {"code": code, "lang": "en", "action": "check"})
    assert right.status_code == 303 and right.headers["Location"].startswith("/complaints/done")
    twice = form_post(client, "/complaints/verify", {"code": code, "lang": "en", "action": "check"})
    assert twice.status_code == 303 and twice.headers["Location"].startswith("/complaints/done")
    filed = complaints()
    assert len(filed) == 1
    complaint = filed[0]
    assert complaint.verification is Verification.sms and complaint.phone == "+9647501234567"
    done = text(client.get("/complaints/done?lang=en"))
    assert spaced(complaint.code) in done and words("en", "done_sent_sms") in done
    attachment = db.session.scalar(select(ComplaintAttachment).where(ComplaintAttachment.complaint_id == complaint.id))
    with Image.open(io.BytesIO(attachment.data)) as photo:
        assert not photo.getexif().get_ifd(GPS_IFD)
    notice = db.session.scalar(
        select(SmsMessage.body).where(SmsMessage.complaint_id == complaint.id, SmsMessage.kind == SmsKind.complaint)
    )
    assert spaced(complaint.code) in notice
    # A new complaint starts empty.
    assert "three times without a reason" not in text(client.get("/complaints?lang=en"))


def test_an_email_only_complaint_is_verified_by_the_code_in_the_email(client, places):
    file_through(client, places, phone="", email="Hawre@Example.org")
    db.session.expire_all()
    body = db.session.scalar(select(EmailMessage.body).where(EmailMessage.to_address == "hawre@example.org"))
    code = OTP.search(body).group(1)
    right = form_post(client, "/complaints/verify", {"code": code, "lang": "en", "action": "check"})
    assert right.status_code == 303
    (complaint,) = complaints()
    assert complaint.verification is Verification.email and complaint.email == "hawre@example.org"
    assert words("en", "done_sent_email") in text(client.get("/complaints/done?lang=en"))


def test_the_citizen_may_choose_the_email_when_both_are_given(client, places):
    file_through(client, places, email="hawre@example.org", contact_by="email")
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(EmailMessage)) == 1
    assert db.session.scalar(select(func.count()).where(SmsMessage.kind == SmsKind.code)) == 0


def test_resending_is_limited_per_destination_with_a_clear_message(client, places, app, monkeypatch):
    monkeypatch.setitem(app.config, "OTP_MAX_PER_DESTINATION_HOUR", 2)
    file_through(client, places)
    resent = form_post(client, "/complaints/verify", {"lang": "en", "action": "resend"})
    assert resent.status_code == 200 and words("en", "resent") in text(resent)
    refused = form_post(client, "/complaints/verify", {"lang": "en", "action": "resend"})
    assert refused.status_code == 429 and words("en", "refused.destination") in text(refused)
    # Both codes sent still work: the older one files the complaint.
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(OneTimeCode)) == 2


def test_a_refused_first_code_keeps_the_form(client, places, app, monkeypatch):
    monkeypatch.setitem(app.config, "OTP_MAX_PER_REQUESTER_HOUR", 0)
    answer = post(client, filled(places, description="Everything I typed must still be here, please."))
    page = text(answer)
    assert answer.status_code == 429 and words("en", "refused.requester") in page
    assert "Everything I typed must still be here" in page


def test_expired_and_exhausted_codes_say_so(client, places, app, monkeypatch):
    monkeypatch.setitem(app.config, "OTP_MAX_TRIES", 2)
    file_through(client, places)
    for _ in range(2):
        form_post(client, "/complaints/verify", {"code": "000000", "lang": "en", "action": "check"})
    exhausted = form_post(client, "/complaints/verify", {"code": last_sms_code(), "lang": "en", "action": "check"})
    assert exhausted.status_code == 400 and words("en", "check.exhausted") in text(exhausted)
    form_post(client, "/complaints/verify", {"lang": "en", "action": "resend"})
    db.session.execute(update(OneTimeCode).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    expired = form_post(client, "/complaints/verify", {"code": last_sms_code(), "lang": "en", "action": "check"})
    assert expired.status_code == 400 and words("en", "check.expired") in text(expired)
    assert complaints() == []


def test_ipv6_clients_are_counted_by_their_64(client, places, app, monkeypatch):
    monkeypatch.setitem(app.config, "OTP_MAX_PER_REQUESTER_HOUR", 1)
    assert post(client, filled(places), address="2001:db8:1:2::10").status_code == 303
    other_phone = filled(places, phone="0751 765 4321")
    refused = post(client, other_phone, address="2001:db8:1:2:ffff::99")
    assert refused.status_code == 429
    assert post(client, other_phone, address="2001:db8:1:3::10").status_code == 303


# --- files -----------------------------------------------------------------------------


def test_size_and_count_are_checked_and_said(client, places, app, monkeypatch):
    monkeypatch.setitem(app.config, "COMPLAINT_ATTACHMENT_MAX_BYTES", 2000)
    monkeypatch.setitem(app.config, "COMPLAINT_ATTACHMENTS_MAX", 2)
    big = pdf()[:-6] + b"x" * 3000 + b"\n%%EOF\n"
    answer = post(
        client, filled(places), files=[("big.pdf", big), ("a.pdf", pdf()), ("b.png", png()), ("c.pdf", pdf())]
    )
    page = text(answer)
    assert answer.status_code == 400
    assert "big.pdf" in page and "larger than 1 MB" in page
    assert "c.pdf" in page and words("en", "file.count").replace("{most}", "2") in page
    db.session.expire_all()
    kept = db.session.scalar(select(PendingComplaint))
    assert sorted(row.filename for row in kept.files) == ["a.pdf", "b.png"]


def test_a_body_over_the_routes_limit_keeps_what_was_typed_before(client, places, app, monkeypatch):
    assert post(client, filled(places, name="")).status_code == 400  # typed, kept in the row
    monkeypatch.setitem(app.config, "COMPLAINT_ATTACHMENT_MAX_BYTES", 1000)
    monkeypatch.setitem(app.config, "COMPLAINT_ATTACHMENTS_MAX", 1)
    answer = post(client, filled(places), files=[("huge.pdf", b"%PDF-" + b"x" * 400_000)])
    page = text(answer)
    assert answer.status_code == 413 and words("en", "file.too_large") in page
    assert "three times without a reason" in page


def test_a_body_over_the_apps_megabyte_is_taken_on_this_route(client, places):
    photo = Image.effect_noise((900, 900), 90).convert("RGB")
    out = io.BytesIO()
    photo.save(out, "PNG")
    assert len(out.getvalue()) > 1024 * 1024 // 2
    answer = post(client, filled(places), files=[("one.png", out.getvalue()), ("two.png", out.getvalue())])
    assert answer.status_code == 303


# --- following ---------------------------------------------------------------------------


@pytest.fixture
def filed(app_context):
    complaint = add_complaint()
    db.session.commit()
    return complaint.id, complaint.code


def ask_to_track(client, code, contact, address=ADDRESS):
    return client.post(
        "/complaints/track",
        data={"code": code, "contact": contact, "lang": "en", "csrf_token": csrf(client, "/complaints/track")},
        environ_base={"REMOTE_ADDR": address},
    )


def sms_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).where(SmsMessage.kind == SmsKind.code)) or 0


def test_a_match_and_a_miss_get_the_same_answer(client, app, filed):
    _, code = filed
    stranger = app.test_client()
    unknown = new_code()
    matched = ask_to_track(client, spaced(code), "0750 123 4567")
    assert sms_count() == 1
    missed = ask_to_track(stranger, unknown, "0750 123 4567")
    wrong_contact = ask_to_track(app.test_client(), code, "0751 000 0000")
    assert sms_count() == 1  # only the match was sent a code
    assert matched.status_code == missed.status_code == wrong_contact.status_code == 303, text(missed)[-1500:]
    assert matched.headers["Location"] == missed.headers["Location"] == wrong_contact.headers["Location"]
    first = text(client.get(matched.headers["Location"]))
    second = text(stranger.get(missed.headers["Location"]))
    assert words("en", "track_sent_if_match").replace("{minutes}", "10") in first
    strip = re.compile(r'value="[^"]+"|\d{3} \d{3} \d{4}')
    assert strip.sub("", first) == strip.sub("", second)
    # A guessed code is told exactly as a typo is.
    assert (
        text(form_post(stranger, "/complaints/track/code", {"otp": "123456", "lang": "en"})).count(
            words("en", "track_code_wrong")
        )
        == 1
    )


def test_a_mistyped_code_is_refused_before_anything_is_sent(client, filed):
    _, code = filed
    typo = code[:-1] + str((int(code[-1]) + 1) % 10)
    answer = ask_to_track(client, typo, "0750 123 4567")
    assert answer.status_code == 400 and words("en", "not_a_code") in text(answer)
    assert sms_count() == 0


def test_track_requests_are_limited_per_address_whatever_they_find(client, app, filed, monkeypatch):
    monkeypatch.setitem(app.config, "OTP_MAX_PER_REQUESTER_HOUR", 2)
    for _ in range(2):
        assert ask_to_track(client, new_code(), "0750 999 9999").status_code == 303
    refused = ask_to_track(client, filed[1], "0750 123 4567")
    assert refused.status_code == 429 and words("en", "refused.requester") in text(refused)
    assert sms_count() == 0


def open_complaint(client, code, contact="0750 123 4567", phone="+9647501234567"):
    ask_to_track(client, code, contact)
    db.session.expire_all()
    body = db.session.scalar(
        select(SmsMessage.body)
        .where(SmsMessage.kind == SmsKind.code, SmsMessage.to_phone == phone)
        .order_by(SmsMessage.id.desc())
    )
    answer = form_post(client, "/complaints/track/code", {"otp": OTP.search(body).group(1), "lang": "en"})
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/complaints/track/view")
    return text(client.get("/complaints/track/view?lang=en"))


def test_the_right_code_shows_status_entity_and_public_history(client, filed):
    complaint_id, code = filed
    page = open_complaint(client, code)
    assert "sent to the entity" in page and "KRG Ministry of Health" in page and spaced(code) in page
    assert "Hawre" not in page and "referral papers" not in page  # the page tells status, not the complaint
    assert 'data-test="reply"' not in page and 'data-test="appeal"' not in page


def test_the_citizen_replies_to_a_request_for_information_with_a_file(client, filed):
    complaint_id, code = filed
    officer = add_user("officer", Role.officer, entity_id=add_entity().id)
    handling.request_information(complaint_id, officer, "Which clinic was it, and on which day?")
    page = open_complaint(client, code)
    assert "Which clinic was it" in page and 'data-test="reply"' in page
    assert '<p class="body" dir="auto">Which clinic' in page  # an English answer reads right on an Arabic page
    empty = post(client, {"body": "  ", "lang": "en"}, path="/complaints/track/reply")
    assert empty.status_code == 400 and words("en", "reply.empty") in text(empty)
    refused = post(
        client, {"body": "The Rizgary clinic.", "lang": "en"}, [("x.pdf", exe())], path="/complaints/track/reply"
    )
    assert refused.status_code == 400 and "The Rizgary clinic." in text(refused)
    sent = post(
        client,
        {"body": "The Rizgary clinic, on Sunday.", "lang": "en"},
        [("scan.png", png())],
        path="/complaints/track/reply",
    )
    assert sent.status_code == 303
    db.session.expire_all()
    complaint = db.session.get(Complaint, complaint_id)
    assert complaint.status is ComplaintStatus.in_progress
    (attachment,) = db.session.scalars(
        select(ComplaintAttachment).where(ComplaintAttachment.complaint_id == complaint_id)
    )
    assert attachment.event_id is not None and attachment.content_type == "image/png"
    assert words("en", "sent.reply") in text(client.get(sent.headers["Location"]))


def test_a_rejected_complaint_shows_its_reason_and_may_be_contested(client, filed):
    complaint_id, code = filed
    officer = add_user("officer", Role.officer, entity_id=add_entity().id)
    handling.reject(complaint_id, officer, "This is a matter for the courts.")
    page = open_complaint(client, code)
    assert "This is a matter for the courts." in page and 'data-test="appeal"' in page
    answer = form_post(client, "/complaints/track/appeal", {"reason": "The court sent me back to you.", "lang": "en"})
    assert answer.status_code == 303
    db.session.expire_all()
    assert db.session.get(Complaint, complaint_id).status is ComplaintStatus.appealed
    again = form_post(client, "/complaints/track/appeal", {"reason": "Again.", "lang": "en"})
    assert again.status_code == 409 and words("en", "appeal.not_now") in text(again)


def test_the_view_needs_a_checked_code_and_ends_after_its_minutes(client, filed, app):
    assert client.get("/complaints/track/view").status_code == 302
    open_complaint(client, filed[1])
    with client.session_transaction() as session:
        session["complaint_tracked"] = {**session["complaint_tracked"], "until": 0}
    assert client.get("/complaints/track/view").status_code == 302


# --- no input is a server error -------------------------------------------------------------

form_values = st.one_of(st.text(max_size=60), st.sampled_from(["\x00", "٣٤", "1" * 30, "-1", str(2**63), "", " "]))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    data=st.dictionaries(
        st.sampled_from(
            [
                "kind",
                "category_id",
                "entity_id",
                "governorate",
                "description",
                "name",
                "phone",
                "email",
                "national_id",
                "declared_adult",
                "declared_citizen",
                "hide_identity",
                "contact_by",
                "entity_filter",
                "action",
                "lang",
                "remove",
            ]
        ),
        form_values,
    ),
    upload=st.one_of(st.none(), st.binary(max_size=64), st.sampled_from([pdf(), png(), b"%PDF-", b"\xff\xd8\xff"])),
)
def test_no_form_post_is_a_server_error(app, data, upload):
    client = app.test_client()
    files = [("f.bin", upload)] if upload is not None else ()
    answer = post(client, data, files)
    assert answer.status_code < 500
    for path, form in (
        ("/complaints/verify", {"code": data.get("name", ""), "action": data.get("action", "")}),
        ("/complaints/track", {"code": data.get("phone", ""), "contact": data.get("email", "")}),
        ("/complaints/track/code", {"otp": data.get("national_id", "")}),
    ):
        assert form_post(client, path, form).status_code < 500
