"""Supervisors see, on every console page, how many complaints are past their SLA; agents don't."""

from datetime import timedelta

from domain.complaints.upkeep import escalate_overdue
from extensions import db
from models import Role
from tests.support.complaints import add_complaint
from tests.support.records import add_user, logged_in_client


def overdue_complaint(app):
    with app.app_context():
        complaint = add_complaint()
        escalate_overdue(now=complaint.sla_due_at + timedelta(minutes=1))
        db.session.commit()


def test_a_supervisor_is_told_of_overdue_complaints_on_every_page(app):
    with app.app_context():
        add_user("sara", Role.supervisor, language="en")
        add_user("ali", Role.agent, language="en")
        db.session.commit()
    supervisor = logged_in_client(app, "sara")
    assert "past its SLA" not in supervisor.get("/console/calls").get_data(as_text=True)
    overdue_complaint(app)
    for page in ("/console/calls", "/console/callbacks"):
        html = supervisor.get(page).get_data(as_text=True)
        assert "1 complaint is past its SLA." in html
        assert "/console/complaints?overdue=1" in html
    agent = logged_in_client(app, "ali")
    assert "past its SLA" not in agent.get("/console/callbacks").get_data(as_text=True)


def test_the_notice_is_in_the_supervisors_language(app):
    with app.app_context():
        add_user("sami", Role.supervisor, language="ar")
        db.session.commit()
    overdue_complaint(app)
    html = logged_in_client(app, "sami").get("/console/callbacks").get_data(as_text=True)
    assert "شكوى واحدة (1) تجاوزت مهلتها." in html
