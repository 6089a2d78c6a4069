"""When failed lookups jump, supervisors see a banner on every console page; agents do not."""

from __future__ import annotations

import re

from models import Role
from tests.support.console import agent_client

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
BANNER = 'id="lookup-alarm"'


def guess(client, n: int) -> None:
    page = client.get("/inquiry?lang=en")
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    answer = client.post(
        "/inquiry",
        data={"csrf_token": token, "number": f"88{n:03d}", "date": "2024-03-15", "lang": "en"},
        environ_base={"REMOTE_ADDR": f"2001:db8:{n:x}::1"},  # each from a /64 of its own
    )
    assert answer.status_code == 200


def test_supervisors_see_the_alarm_and_agents_do_not(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOOKUP_ALARM_FAILURES", 3)
    with app.app_context():
        agent = agent_client(app, "aya")
        supervisor = agent_client(app, "sami", role=Role.supervisor)
        arabic = agent_client(app, "sara", role=Role.supervisor, language="ar")
        admin = agent_client(app, "adam", role=Role.admin, language="ckb")
    public = app.test_client()
    for n in range(2):
        guess(public, n)
    assert BANNER not in supervisor.get("/console/wallboard").get_data(as_text=True)

    guess(public, 2)
    for n in range(3, 8):
        guess(public, n)  # still jumping: no second alarm within the window

    for path in ("/console/wallboard", "/console/", "/console/kpis"):
        page = supervisor.get(path).get_data(as_text=True)
        assert BANNER in page, path
        assert "Failed letter lookups jumped: 3 in 10 minutes from 3 callers and addresses" in page
    assert "ارتفع عدد الاستعلامات الفاشلة عن الكتب" in arabic.get("/console/wallboard").get_data(as_text=True)
    assert "پرسینەوە سەرنەکەوتووەکانی نووسراو" in admin.get("/console/").get_data(as_text=True)

    for path in ("/console/", "/console/search", "/console/callbacks"):
        assert BANNER not in agent.get(path).get_data(as_text=True), path

    audit = supervisor.get("/console/audit?action=lookup_alarm").get_data(as_text=True)
    assert audit.count('<tr id="audit-') == 1 and "Alarm: failed letter lookups jumped" in audit
