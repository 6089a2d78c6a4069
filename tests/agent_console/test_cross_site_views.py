"""Pages whose every view is audited (a letter's record, a call screen, a call's timeline):
opened from another site's link they show and audit nothing, and ask first."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from extensions import db
from models import AuditEntry
from tests.support.records import add_letter, logged_in_client
from tests.support.supervisor import add_call

CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}


@pytest.fixture
def pages(app, staff):
    with app.app_context():
        letter = add_letter(subject="طلب تعيين سري")
        call = add_call("2025-03-10 09:20:00", transaction_id=letter.id, found=True)
        return {
            "record": f"/console/transactions/{letter.id}",
            "call": f"/console/calls/{call.id}",
            "timeline": f"/console/calls/{call.id}/timeline",
        }


def audited(app) -> int:
    with app.app_context():
        return len(
            db.session.scalars(select(AuditEntry).where(AuditEntry.action.in_(["view_transaction", "view_call"]))).all()
        )


@pytest.mark.parametrize("page", ["record", "call", "timeline"])
def test_a_link_from_another_site_shows_and_audits_nothing_but_asks(app, pages, page):
    client = logged_in_client(app, "sami")
    for site in ["cross-site", "same-site"]:
        response = client.get(pages[page], headers={**CROSS_SITE, "Sec-Fetch-Site": site})
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "طلب تعيين سري" not in html
        assert f'id="open-here" href="{pages[page]}"' in html
    assert audited(app) == 0


@pytest.mark.parametrize("site", ["same-origin", "none", None])
def test_this_sites_own_links_typed_addresses_and_older_browsers_open_and_audit(app, pages, site):
    client = logged_in_client(app, "sami")
    headers = {"Sec-Fetch-Site": site} if site else {}
    html = client.get(pages["record"], headers=headers).get_data(as_text=True)
    assert "طلب تعيين سري" in html
    assert audited(app) == 1
