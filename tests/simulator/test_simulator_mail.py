"""Does the simulator show the e-mails the app sent, or kept unsent without an SMTP server, in development only?"""

from __future__ import annotations

from domain.email import dispatch_email_outbox, queue_email
from extensions import db
from factory import create_app
from models import EmailStatus

SUBJECT = "شكوى 4821-3396: تم الاستلام"
BODY = "سکاڵاکەت وەرگیرا. کۆدی سکاڵا: 4821-3396"


def notice(key: str, to: str = "citizen@example.org") -> int:
    message = queue_email(to=to, subject=SUBJECT, body=BODY, language="ckb", key=key)
    db.session.commit()
    message_id = message.id
    dispatch_email_outbox()  # no Redis: the job runs inline; no SMTP_HOST: suppressed
    return message_id


def test_without_an_smtp_server_the_mail_page_shows_what_the_citizen_would_have_received(app, app_context, client):
    assert app.config["SMTP_HOST"] == ""
    first = notice("n-1")
    second = notice("n-2", to="other@example.org")
    html = client.get("/dev/simulator/mail").get_data(as_text=True)
    assert SUBJECT in html and BODY in html
    assert "citizen@example.org" in html and "other@example.org" in html
    assert 'data-status="suppressed"' in html and "no SMTP_HOST" in html
    assert html.index(f'id="mail-{second}"') < html.index(f'id="mail-{first}"')  # newest first
    assert 'href="/dev/simulator/mail"' in client.get("/dev/simulator/").get_data(as_text=True)


def test_the_mail_api_lists_messages_after_an_id(app, app_context, client):
    first = notice("n-1")
    second = notice("n-2")
    listed = client.get("/dev/simulator/api/mail").json["messages"]
    assert [m["id"] for m in listed] == [second, first]
    assert listed[0]["status"] == EmailStatus.suppressed.value and listed[0]["body"] == BODY
    assert [m["id"] for m in client.get(f"/dev/simulator/api/mail?after={first}").json["messages"]] == [second]
    assert client.get("/dev/simulator/api/mail?after=x").status_code == 400


def test_an_empty_outbox(client):
    assert "No e-mail yet." in client.get("/dev/simulator/mail").get_data(as_text=True)


def test_the_mail_page_only_answers_outside_production(app, client, monkeypatch, database_url):
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    assert client.get("/dev/simulator/mail").status_code == 404
    assert client.get("/dev/simulator/api/mail").status_code == 404
    production = create_app(
        {"APP_ENV": "production", "SECRET_KEY": "s", "TWILIO_AUTH_TOKEN": "t", "SQLALCHEMY_DATABASE_URI": database_url}
    )
    assert production.test_client().get("/dev/simulator/mail").status_code == 404
