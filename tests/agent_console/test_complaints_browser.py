"""In a real headless Chromium: an entity officer answers one complaint and transfers another;
an agent records a complaint on the call screen during a call. Screenshots of every page in
Arabic, Kurdish and English at 1024x768 and 1366x768 go to test-artifacts/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from domain.calls.agent import claim
from extensions import db
from models import Complaint, ComplaintStatus, Role, User
from tests.support.browser import ARTIFACTS, console_serving, log_in, open_page
from tests.support.complaints import add_category, add_complaint, add_entity
from tests.support.console import enqueue_caller, make_user
from tests.support.ivr import add_letter
from tests.support.webhooks import Twilio

pytestmark = pytest.mark.browser

SIZES = ((1024, 768), (1366, 768))


@pytest.fixture
def console_server(app):
    with console_serving(app) as base:
        yield base


def set_language(username: str, language: str) -> None:
    db.session.expire_all()
    db.session.scalar(select(User).where(User.username == username)).language = language
    db.session.commit()


def screenshots(browser, base: str, username: str, landing: str, paths: dict[str, str], clicks=None) -> None:
    """Each page in each language at each size, and a check that nothing overflows sideways."""
    for language in ("ar", "ckb", "en"):
        set_language(username, language)
        for width, height in SIZES:
            with open_page(browser, width=width, height=height) as page:
                log_in(page, base, username, landing=re.compile(landing))
                for name, path in paths.items():
                    page.goto(base + path)
                    if clicks and name in clicks:
                        page.click(clicks[name])
                    expect(page.locator("html")).to_have_attribute("lang", language)
                    page.screenshot(path=str(ARTIFACTS / f"{name}-{language}-{width}.png"), full_page=True)
                    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                    assert overflow <= 1, (name, language, width, overflow)
    set_language(username, "en")


def test_an_officer_answers_one_complaint_and_transfers_another(app, app_context, browser, console_server):
    ARTIFACTS.mkdir(exist_ok=True)
    health = add_entity()
    education = add_entity("krg-education", "وزارة التربية", "KRG Ministry of Education")
    add_category()
    db.session.commit()
    make_user("olan", Role.officer, entity_id=health.id)
    first = add_complaint(description="The clinic refused my referral papers three times without a reason.")
    second = add_complaint(description="The school asked me for a fee that the ministry abolished last year.")
    hidden = add_complaint(hide_identity=True, name="Secret Person")
    add_letter(number="1001", holder_code="krg-health")
    first_id, second_id, hidden_id = first.id, second.id, hidden.id

    with open_page(browser, width=1366, height=768) as page:
        log_in(page, console_server, "olan", landing=re.compile(r"/console/complaints$"))
        expect(page.locator(f"#complaint-{first_id}")).to_be_visible()
        page.click(f"#complaint-{first_id} a")
        page.fill('form[action$="/respond"] textarea[name="body"]', "We called the clinic; your referral is accepted.")
        page.click("#do-respond")
        expect(page.locator(".flash.success")).to_contain_text("The response is sent to the citizen.")
        expect(page.locator(".timeline")).to_contain_text("your referral is accepted")

        page.goto(f"{console_server}/console/complaints/{second_id}")
        page.click('summary:has-text("Transfer to another entity")')
        page.select_option("#transfer-entity", str(education.id))
        page.fill('form[action$="/transfer"] textarea[name="body"]', "Schools are the Ministry of Education's.")
        page.click("#do-transfer")
        page.wait_for_url(re.compile(r"/console/complaints$"))
        expect(page.locator(".flash.success")).to_contain_text("transferred")
        expect(page.locator(f"#complaint-{second_id}")).to_have_count(0)

        page.goto(f"{console_server}/console/complaints/{hidden_id}")
        expect(page.locator("#identity-hidden")).to_be_visible()
        assert "Secret Person" not in page.content()
    db.session.expire_all()
    assert db.session.get(Complaint, first_id).status is ComplaintStatus.in_progress
    assert db.session.get(Complaint, second_id).entity_id == education.id

    screenshots(
        browser,
        console_server,
        "olan",
        r"/console/complaints$",
        {
            "officer-inbox": "/console/complaints",
            "officer-complaint": f"/console/complaints/{first_id}",
            "officer-letters": "/console/letters",
        },
    )


def test_an_agent_records_a_complaint_on_the_call_screen(app, app_context, client, browser, console_server):
    ARTIFACTS.mkdir(exist_ok=True)
    entity = add_entity()
    category = add_category()
    db.session.commit()
    entity_id, category_id = entity.id, category.id
    call = enqueue_caller(client, 1, caller="+9647501234567", ask_letter=False)
    agent = make_user("amira", Role.agent)
    assert claim(call.id, agent)
    db.session.commit()
    Twilio(client, sid=call.sid).post(f"/ivr/agent/connect?call={call.id}")
    call_id = call.id

    with open_page(browser, width=1366, height=768) as page:
        log_in(page, console_server, "amira")
        page.goto(f"{console_server}/console/calls/{call_id}")
        page.click("#record-complaint summary")
        expect(page.locator('input[name="phone"]')).to_have_value("0750 123 4567")
        page.select_option('select[name="kind"]', "service")
        page.select_option('select[name="category"]', str(category_id))
        page.select_option('select[name="entity"]', str(entity_id))
        page.select_option('select[name="governorate"]', "erbil")
        page.fill('textarea[name="description"]', "The passport office sent me away three times without a reason.")
        page.fill('input[name="name"]', "Dilan Aziz")
        page.check('input[name="declared_adult"]')
        page.check('input[name="declared_citizen"]')
        page.check('input[name="verification"][value="phone_unverified"]')
        page.click("#file-complaint")
        page.wait_for_url(re.compile(rf"/console/calls/{call_id}"))
        complaint = db.session.scalar(select(Complaint))
        spaced = f"{complaint.code[:3]} {complaint.code[3:6]} {complaint.code[6:]}"
        expect(page.locator(".flash.success")).to_contain_text(spaced)
        expect(page.locator("#caller-complaints")).to_contain_text(complaint.code)

    screenshots(
        browser,
        console_server,
        "amira",
        r"/console/$",
        {
            "agent-call-screen": f"/console/calls/{call_id}",
            "agent-record-complaint": f"/console/calls/{call_id}",
        },
        clicks={"agent-record-complaint": "#record-complaint summary"},
    )
