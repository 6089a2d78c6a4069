"""Complaint categories in a fresh install, and the demo's complaints (never in production)."""

from __future__ import annotations

from sqlalchemy import func, select

from demo.complaints import seed_complaints
from domain.complaints.categories import default_categories
from extensions import db
from models import Complaint, ComplaintCategory, ComplaintEvent, ComplaintEventKind, ComplaintKind, ComplaintStatus


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_default_categories_are_made_once_and_edits_are_kept(runner, app_context):
    first = runner.invoke(args=["complaints", "categories"])
    assert first.exit_code == 0, first.output
    assert f"added {len(default_categories())} categories" in first.output
    made = db.session.scalars(select(ComplaintCategory)).all()
    assert {c.kind for c in made} == {ComplaintKind.service, ComplaintKind.employee}
    assert all(c.name_ar and c.name_ckb and c.name_en and c.sla_hours > 0 for c in made)
    bribe = db.session.scalar(select(ComplaintCategory).where(ComplaintCategory.code == "employee-bribe"))
    bribe.sla_hours = 3
    db.session.commit()
    second = runner.invoke(args=["complaints", "categories"])
    assert "added 0 categories" in second.output and "employee-bribe" in second.output
    db.session.expire_all()
    assert count(ComplaintCategory) == len(made) and bribe.sla_hours == 3


def test_the_categories_command_works_in_production(app, runner, monkeypatch, app_context):
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    assert runner.invoke(args=["complaints", "categories"]).exit_code == 0
    assert count(ComplaintCategory) == len(default_categories())


def test_the_demo_has_complaints_in_every_status_a_complaint_stays_in(app_context):
    made = seed_complaints()
    assert made == count(Complaint) > 20
    statuses = set(db.session.scalars(select(Complaint.status)))
    assert statuses == set(ComplaintStatus) - {ComplaintStatus.submitted}
    officer_entity = {c.status for c in db.session.scalars(select(Complaint)) if c.entity.code == "krg-health"}
    assert officer_entity == statuses
    assert db.session.scalar(select(func.count()).where(ComplaintEvent.kind == ComplaintEventKind.escalated)) > 0
    for complaint in db.session.scalars(select(Complaint)):
        assert complaint.events[0].kind is ComplaintEventKind.submitted
        assert complaint.events[-1].to_status in {complaint.status, None}
    assert seed_complaints() == 0  # seeding again adds nothing


def test_the_demo_seed_makes_complaints_too(runner, app_context):
    result = runner.invoke(args=["demo", "seed", "--letters", "20"])
    assert result.exit_code == 0, result.output
    assert "complaints with their histories" in result.output and count(Complaint) > 20


def test_demo_complaints_are_refused_in_production(app, runner, monkeypatch, app_context):
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    result = runner.invoke(args=["demo", "seed", "--letters", "20"])
    assert result.exit_code != 0 and "development" in result.output
    assert count(Complaint) == 0 and count(ComplaintCategory) == 0
