"""Can someone trying the hotline log in and find letters right away, and never in production?"""

from __future__ import annotations

from sqlalchemy import select

from extensions import db
from models import Entity, Role, Transaction, User


def test_demo_users_are_made_once_and_printed(app, runner, app_context):
    first = runner.invoke(args=["demo", "users"])
    second = runner.invoke(args=["demo", "users"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    assert "hotline-5599-demo" in first.output and "supervisor" in first.output
    roles = dict(db.session.execute(select(User.username, User.role)).all())
    assert roles == {
        "agent": Role.agent,
        "agent2": Role.agent,
        "supervisor": Role.supervisor,
        "admin": Role.admin,
        "officer": Role.officer,
    }
    officer = db.session.scalar(select(User).where(User.username == "officer"))
    assert db.session.get(Entity, officer.entity_id).code == "krg-health"
    assert "officer of KRG Ministry of Health" in first.output


def test_demo_users_are_refused_in_production(app, runner, monkeypatch, app_context):
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    result = runner.invoke(args=["demo", "users"])
    assert result.exit_code != 0 and "development" in result.output
    assert db.session.scalar(select(User.id)) is None


def test_demo_letters_are_refused_in_production(app, runner, monkeypatch, app_context):
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    result = runner.invoke(args=["demo", "seed", "--letters", "20"])
    assert result.exit_code != 0 and "development" in result.output
    assert db.session.scalar(select(Transaction.id)) is None
