"""The complaints report in a real headless Chromium, in Arabic, Kurdish and English at the two
screen sizes supervisors use; screenshots under test-artifacts/ to look at."""

from __future__ import annotations

import random
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from extensions import db
from models import ComplaintChannel, ComplaintStatus, Role
from tests.support.browser import ARTIFACTS, console_serving, log_in, new_page
from tests.support.complaint_report import filed, some_complaints
from tests.support.complaints import add_category, add_entity
from tests.support.records import add_user

pytestmark = pytest.mark.browser

S = ComplaintStatus
FIRST_DAY = date(2025, 3, 1)


@pytest.fixture
def server(app):
    with console_serving(app, "complaint-report-server") as base:
        yield base


@pytest.fixture
def two_weeks_of_complaints(app_context):
    """some_complaints() and sixty more over two weeks, across entities, categories and governorates."""
    chance = random.Random(5599)
    some_complaints()
    entities = [
        add_entity(),
        add_entity("krg-education", "وزارة التربية", "KRG Ministry of Education"),
        add_entity("krg-interior", "وزارة الداخلية", "KRG Ministry of Interior"),
    ]
    categories = [add_category(), add_category("employee-conduct"), add_category("fees", sla_hours=21)]
    names = {
        "employee-conduct": ("سوء معاملة من موظف", "ڕەفتاری خراپی فەرمانبەر", "An employee's conduct"),
        "fees": ("رسوم غير قانونية", "پارەی نایاسایی", "Unlawful fees"),
    }
    for category in categories:
        if category.code in names:
            category.name_ar, category.name_ckb, category.name_en = names[category.code]
    for _ in range(60):
        created = datetime.combine(FIRST_DAY, datetime.min.time(), timezone.utc) + timedelta(
            days=chance.randint(0, 13), hours=chance.randint(5, 14)
        )
        status = chance.choice([S.routed, S.in_progress, S.resolved, S.resolved, S.rejected, S.closed])
        done = status in {S.resolved, S.rejected, S.closed}
        filed(
            created,
            entity_id=chance.choice(entities).id,
            category_id=chance.choice(categories).id,
            governorate=chance.choice(["erbil", "sulaymaniyah", "duhok", "halabja", "baghdad", "kirkuk"]),
            channel=chance.choice([ComplaintChannel.web, ComplaintChannel.phone]),
            status=status,
            first_response_at=created + timedelta(hours=chance.randint(1, 30)),
            resolved_at=created + timedelta(hours=chance.randint(30, 120)) if done else None,
            sla_met=chance.random() < 0.7 if done else None,
            appeals=1 if done and chance.random() < 0.15 else 0,
            sla_due_at=None if done else created + timedelta(hours=chance.randint(24, 96)),
        )
    add_user("sami", Role.supervisor, display_name="Sami Aziz", language="en")
    add_user("salma", Role.supervisor, display_name="سلمى", language="ar")
    add_user("kawa", Role.supervisor, display_name="کاوە", language="ckb")
    db.session.commit()


@pytest.mark.parametrize("size", [(1024, 768), (1366, 768)])
@pytest.mark.parametrize(
    "username, language, direction", [("sami", "en", "ltr"), ("salma", "ar", "rtl"), ("kawa", "ckb", "rtl")]
)
def test_the_report_reads_well_in_every_language_and_size(
    app, server, browser, two_weeks_of_complaints, username, language, direction, size
):
    width, height = size
    page = new_page(browser, width=width, height=height)
    log_in(page, server, username, landing=re.compile(r"/console/"))
    # From the menu: the report is under the top bar's Supervision group.
    page.click('details.menu-group:has(a[href="/console/complaint-report"]) > summary')
    page.click('a[href="/console/complaint-report"]')
    # Days typed as the console writes them, day first (no native date picker's month/day/year).
    page.fill('input[name="start"]', FIRST_DAY.strftime("%d/%m/%Y"))
    page.fill('input[name="end"]', (FIRST_DAY + timedelta(days=13)).strftime("%d/%m/%Y"))
    page.click("form.custom button[type=submit]")
    page.wait_for_url(re.compile(r"period=custom"))
    assert page.locator("html").get_attribute("dir") == direction
    assert int(page.locator("#tile-filed .tile-value").inner_text()) >= 66
    assert page.locator(".chart svg").count() == 2
    assert page.locator("#by-governorate tbody tr").count() >= 5
    # Nothing wider than the window: tables scroll inside their cards.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(ARTIFACTS / f"complaint-report-{language}-{width}x{height}.png"), full_page=True)
    page.context.close()
