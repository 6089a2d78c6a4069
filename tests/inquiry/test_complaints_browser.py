"""Can a citizen file a complaint in a real headless Chromium, in Arabic and in Kurdish, on a
phone and with JavaScript off, with the code read where it was delivered: from what the
Twilio stand-in was sent, or from what a real SMTP server received? Screenshots of every
page in three languages at two desktop sizes go to test-artifacts/."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from domain.complaints import handling
from extensions import db
from models import Complaint, Role
from tests.support.browser import ARTIFACTS, chromium, serving
from tests.support.complaints import add_category, add_complaint, add_entity
from tests.support.files import jpeg_with_gps
from tests.support.records import add_user

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOPS = [{"width": 1024, "height": 768}, {"width": 1366, "height": 768}]
TIMEOUT_MS = 10_000
OTP = re.compile(r"(?<![0-9])([0-9]{6})(?![0-9])")  # "{otp}ە" in Kurdish: no word boundary


@pytest.fixture
def site(app):
    with serving(app, "complaints-live-server") as base:
        yield base


@pytest.fixture
def places(app):
    with app.app_context():
        add_entity()
        add_entity("krg-education", "وزارة التربية", "KRG Ministry of Education").name_ckb = "وەزارەتی پەروەردە"
        add_category()
        db.session.commit()
        db.session.remove()


@contextmanager
def browser_page(url: str, viewport=PHONE, javascript=True):
    with chromium() as browser:
        mobile = viewport is PHONE
        context = browser.new_context(
            viewport=viewport,
            device_scale_factor=2 if mobile else 1,
            is_mobile=mobile,
            has_touch=mobile,
            java_script_enabled=javascript,
        )
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)
        yield page


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def fits(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll}px wide on a {width}px screen"


def sms_code(twilio_api, to: str = "+9647501234567") -> str:
    """The code in the last SMS Twilio's API was asked to send to this number."""
    sent = twilio_api.messages_sent(to=to)
    assert sent, "no SMS reached the Twilio stand-in"
    return OTP.search(sent[-1].form["Body"]).group(1)


def email_code(smtp_server, to: str) -> str:
    """The code in the last e-mail the SMTP server received for this address."""
    received = [mail for mail in smtp_server.messages() if to in mail.rcpt_tos]
    assert received, "no e-mail reached the SMTP server"
    return OTP.search(received[-1].message.get_content()).group(1)


def fill_complaint(page, words: dict, tmp_path, description: str) -> None:
    page.get_by_label(words["name"]).fill("هه‌وری ئه‌حمه‌د")
    page.get_by_label(words["phone"], exact=True).fill("0750 123 4567")
    page.get_by_label(words["declared_adult"]).check()
    page.get_by_label(words["declared_citizen"]).check()
    page.get_by_label(words["kind"]).select_option("service")
    page.locator("#category_id").select_option(index=1)
    page.get_by_label(words["governorate"]).select_option("erbil")
    page.get_by_label(words["description"]).fill(description)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg_with_gps())
    page.locator("#files").set_input_files(str(photo))


WORDS = {
    "ar": {
        "name": "الاسم الكامل",
        "phone": "رقم الهاتف المحمول",
        "declared_adult": "أقرّ بأن عمري 18 سنة أو أكثر",
        "declared_citizen": "أقرّ بأنني مواطن عراقي",
        "kind": "نوع الشكوى",
        "governorate": "المحافظة",
        "description": "وصف ما حدث",
        "search": "بحث",
        "entity_filter": "ابحث عن الجهة",
        "entity": "الجهة المعنية",
        "send": "متابعة",
        "otp": "رمز التحقق",
        "file": "تقديم الشكوى",
        "search_word": "التربية",
        "entity_name": "وزارة التربية",
    },
    "ckb": {
        "name": "ناوی تەواو",
        "phone": "ژمارەی مۆبایل",
        "declared_adult": "ڕایدەگەیەنم کە تەمەنم 18 ساڵ یان زیاترە",
        "declared_citizen": "ڕایدەگەیەنم کە هاووڵاتیی عێراقم",
        "kind": "جۆری سکاڵا",
        "governorate": "پارێزگا",
        "description": "باسکردنی ئەوەی ڕوویدا",
        "search": "گەڕان",
        "entity_filter": "گەڕان بۆ لایەن",
        "entity": "لایەنی پەیوەندیدار",
        "send": "بەردەوامبە",
        "otp": "کۆدی پشتڕاستکردنەوە",
        "file": "تۆمارکردنی سکاڵا",
        "search_word": "تەندروستی",
        "entity_name": "وەزارەتی تەندروستی",
    },
}


@pytest.mark.parametrize("lang, javascript", [("ar", False), ("ckb", True)])
def test_a_whole_complaint_on_a_phone(site, places, app, sms_ready, tmp_path, lang, javascript):
    words = WORDS[lang]
    with browser_page(f"{site}/?lang={lang}", javascript=javascript) as page:
        page.locator("[data-test=complaint]").click()
        page.wait_for_url("**/complaints?lang=" + lang)
        assert page.locator("html").get_attribute("dir") == "rtl"
        fits(page, PHONE["width"])
        description = (
            "رفض الموظف استلام أوراقي ثلاث مرات دون سبب واضح."
            if lang == "ar"
            else "فەرمانبەرەکە سێ جار بەبێ هۆ بەڵگەنامەکانی وەرنەگرت."
        )
        fill_complaint(page, words, tmp_path, description)
        # The server-side search narrows the entities and keeps everything typed.
        page.get_by_label(words["entity_filter"]).fill(words["search_word"])
        page.get_by_role("button", name=words["search"], exact=True).click()
        page.wait_for_load_state()
        options = page.locator("#entity_id option").all_inner_texts()
        assert any(words["entity_name"] in option for option in options) and len(options) == 2
        assert page.get_by_label(words["description"]).input_value() == description
        assert "photo.jpg" in page.locator("[data-test=kept-files]").inner_text()
        page.get_by_label(words["entity"]).select_option(index=1)
        page.locator("[data-test=send]").click()
        page.wait_for_url("**/complaints/verify**")
        fits(page, PHONE["width"])
        page.get_by_label(words["otp"]).fill(sms_code(sms_ready))
        page.get_by_role("button", name=words["file"]).click()
        page.wait_for_url("**/complaints/done**")
        shown = page.locator("[data-test=complaint-code]").inner_text().replace(" ", "")
        fits(page, PHONE["width"])
        shoot(page, f"complaint-{lang}-phone-done.png")
    with app.app_context():
        complaint = db.session.scalar(select(Complaint).where(Complaint.code == shown))
        assert complaint is not None and complaint.description == description and complaint.language == lang
        db.session.remove()


def test_screenshots_in_three_languages_at_two_sizes(site, places, app, sms_ready, monkeypatch):
    for limit in (
        "OTP_MAX_PER_DESTINATION_HOUR",
        "OTP_MAX_PER_REQUESTER_HOUR",
        "COMPLAINT_SMS_MAX_PER_DESTINATION_DAY",
    ):
        monkeypatch.setitem(app.config, limit, 100)  # six tracking codes to one mobile
    with app.app_context():
        complaint = add_complaint()
        officer = add_user("officer", Role.officer, entity_id=add_entity().id)
        handling.request_information(complaint.id, officer, "Which clinic was it, and on which day?")
        code = complaint.code
        db.session.remove()
    for viewport in DESKTOPS:
        size = f"{viewport['width']}x{viewport['height']}"
        for lang in ("ar", "ckb", "en"):
            with browser_page(f"{site}/?lang={lang}", viewport) as page:
                shoot(page, f"complaint-{lang}-{size}-home.png")
                page.goto(f"{site}/complaints?lang={lang}")
                page.locator("[data-test=send]").click()  # empty: every field's message
                page.wait_for_load_state()
                assert page.locator(".field-problem").count() >= 8
                fits(page, viewport["width"])
                shoot(page, f"complaint-{lang}-{size}-form-problems.png")
                page.goto(f"{site}/complaints/track?lang={lang}")
                page.locator("#code").fill(code)
                page.locator("#contact").fill("0750 123 4567")
                page.locator("[data-test=track-send]").click()
                page.wait_for_url("**/complaints/track/code**")
                shoot(page, f"complaint-{lang}-{size}-track-code.png")
                page.locator("#otp").fill(sms_code(sms_ready))
                page.locator("[data-test=track-check]").click()
                page.wait_for_url("**/complaints/track/view**")
                assert page.locator("[data-test=reply]").count() == 1
                fits(page, viewport["width"])
                shoot(page, f"complaint-{lang}-{size}-follow.png")


def test_a_complaint_verified_by_email_with_the_code_from_the_smtp_server(site, places, app, smtp_server, tmp_path):
    words = WORDS["ar"]
    with browser_page(f"{site}/complaints?lang=ar", viewport=DESKTOPS[0]) as page:
        fill_complaint(page, words, tmp_path, "رفض الموظف استلام أوراقي ثلاث مرات دون سبب واضح.")
        page.get_by_label(words["phone"], exact=True).fill("")
        page.locator("#email").fill("citizen@example.org")
        page.get_by_label(words["entity"]).select_option(index=1)
        page.locator("[data-test=send]").click()
        page.wait_for_url("**/complaints/verify**")
        page.get_by_label(words["otp"]).fill(email_code(smtp_server, "citizen@example.org"))
        page.get_by_role("button", name=words["file"]).click()
        page.wait_for_url("**/complaints/done**")
        shown = page.locator("[data-test=complaint-code]").inner_text().replace(" ", "")
    # The complaint's own notice, with its code, reached the same mailbox.
    notices = [mail.message for mail in smtp_server.messages() if shown[:3] in str(mail.message["Subject"])]
    assert notices and " ".join((shown[:3], shown[3:6], shown[6:])) in notices[-1].get_content()
