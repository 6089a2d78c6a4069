"""Is every e-mail sent once, to a real SMTP server, intact: with the server down, refusing, or unset?"""

from __future__ import annotations

import logging
import socket
from datetime import timedelta
from email.utils import parseaddr, parsedate_to_datetime

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select, update

import jobs.housekeeping
from domain.clock import utcnow
from domain.email import dispatch_email_outbox, enqueue_email, queue_email
from extensions import db
from jobs import queue_name, redis_job_id
from jobs.email import send_email
from jobs.housekeeping import purge_retention, sweep_outbox
from models import EmailMessage, EmailStatus
from tests.support.jobs import CLOSED_PORT_URL, run_worker, use_redis, worker_env
from tests.support.smtp_server import SmtpServer, free_port

ADDRESS = "citizen.name@example.org"
SUBJECT = "شكوى 4821-3396: تم الاستلام"
# Arabic, then Sorani Kurdish (with its own letters: ە ێ ۆ ڕ ڵ ھ), then digits and a long line.
BODY = (
    "تم استلام شكواك. رمز الشكوى: 4821-3396\n"
    "سکاڵاکەت وەرگیرا. کۆدی سکاڵا: 4821-3396. دۆخ: ڕەوانەکرا بۆ لایەنی پەیوەندیدار؛ ھەڵە نییە.\n"
    + "ئەم نامەیە بە شێوەیەکی خۆکار نێردراوە. " * 6
    + "\n"
)


@pytest.fixture
def no_grace(monkeypatch):
    """The sweep takes rows at once (normally it leaves the request a few seconds to enqueue)."""
    monkeypatch.setattr(jobs.housekeeping, "PENDING_GRACE", timedelta(0))


def queue(to=ADDRESS, key="complaint-1-submitted", subject=SUBJECT, body=BODY, language="ckb") -> int | None:
    """What a complaint's notice does: an outbox row, committed, then dispatched."""
    message = queue_email(to=to, subject=subject, body=body, language=language, key=key)
    db.session.commit()
    message_id = message.id if message is not None else None
    dispatch_email_outbox()
    return message_id


def the_email(message_id) -> EmailMessage:
    db.session.expire_all()
    return db.session.get(EmailMessage, message_id)


def email_env(app, database_url, redis_url, server: SmtpServer | None, port: int | None = None) -> dict:
    return worker_env(
        app,
        database_url,
        redis_url,
        "http://127.0.0.1:1",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port or server.port,
        SMTP_SECURITY="none",
        MAIL_FROM=app.config["MAIL_FROM"],
    )


# --- sent once, intact ---------------------------------------------------------------


def test_a_queued_email_arrives_once_with_its_headers_and_an_intact_arabic_and_kurdish_body(
    app, app_context, smtp_server
):
    before = utcnow().replace(microsecond=0)
    message_id = queue()  # no Redis: the job runs inline, right after the commit
    assert send_email(message_id) == "not claimable"  # the same job once more sends nothing

    [received] = smtp_server.messages()
    assert received.rcpt_tos == [ADDRESS]
    assert received.mail_from == parseaddr(app.config["MAIL_FROM"])[1]
    mail = received.message
    assert mail["From"] == app.config["MAIL_FROM"]
    assert mail["To"] == ADDRESS
    assert mail["Subject"] == SUBJECT
    assert parsedate_to_datetime(mail["Date"]) >= before
    assert mail["Message-ID"].startswith(f"<email-{message_id}.") and mail["Message-ID"].endswith("@5599.invalid>")
    assert mail["Content-Language"] == "ckb"
    assert mail.get_content_type() == "text/plain" and mail.get_content_charset() == "utf-8"
    assert mail.get_content().replace("\r\n", "\n") == BODY  # text travels with CRLF line ends
    assert received.raw.isascii()  # 7-bit on the wire: any server carries it

    row = the_email(message_id)
    assert row.status == EmailStatus.sent and row.attempts == 1 and row.sent_at is not None and row.error is None


def test_a_replayed_key_makes_one_row_and_one_email(app, app_context, smtp_server):
    first = queue(key="complaint-7-routed")
    again = queue(key="complaint-7-routed")  # the same notice once more (a retried request)
    assert first == again
    assert db.session.scalar(select(func.count()).select_from(EmailMessage)) == 1
    assert len(smtp_server.messages()) == 1


def test_a_job_that_runs_while_another_attempt_holds_the_row_sends_nothing(app, app_context, smtp_server):
    message = queue_email(to=ADDRESS, subject="s", body="b", language="en", key="k")
    db.session.commit()  # not dispatched: the row waits, pending
    from domain.email import claim_for_sending

    assert claim_for_sending(message.id) == 1  # another worker is sending it
    assert send_email(message.id) == "not claimable"
    assert smtp_server.messages() == []


def test_a_login_is_made_when_smtp_username_is_set(app, app_context):
    server = SmtpServer(login=("hotline", "s3cret")).start()
    settings = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": server.port,
        "SMTP_SECURITY": "none",
        "SMTP_USERNAME": "hotline",
        "SMTP_PASSWORD": "s3cret",
    }
    previous = {name: app.config[name] for name in settings}
    app.config.update(settings)
    try:
        message_id = queue()
    finally:
        app.config.update(previous)
        server.stop()
    assert [r.logged_in_as for r in server.messages()] == ["hotline"]
    assert the_email(message_id).status == EmailStatus.sent


def test_starttls_required_but_not_offered_sends_nothing_in_clear(app, app_context, smtp_server):
    app.config["SMTP_SECURITY"] = "starttls"
    message_id = queue()
    assert smtp_server.messages() == []
    row = the_email(message_id)
    assert row.status == EmailStatus.pending and row.error == "SMTPNotSupportedError"  # retried later


# --- the server down, slow, refusing --------------------------------------------------


def test_with_the_smtp_server_down_the_row_waits_and_the_sweep_sends_it_once_it_is_back(
    app, app_context, smtp_server, no_grace
):
    smtp_server.stop()
    message_id = queue()
    row = the_email(message_id)
    assert row.status == EmailStatus.pending and row.attempts == 1
    assert row.error == "ConnectionRefusedError"

    smtp_server.start()  # back, on the same port
    counts = sweep_outbox()
    assert counts["email_enqueued"] == 1
    assert sweep_outbox()["email_enqueued"] == 0
    assert len(smtp_server.messages()) == 1
    row = the_email(message_id)
    assert row.status == EmailStatus.sent and row.attempts == 2


def test_a_server_that_never_answers_times_out_and_is_retried(app, app_context, smtp_server):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # takes the connection, never says a word
    app.config.update(SMTP_PORT=silent.getsockname()[1], SMTP_TIMEOUT_S=1)
    try:
        message_id = queue()
    finally:
        silent.close()
        app.config.update(SMTP_PORT=smtp_server.port, SMTP_TIMEOUT_S=10)
    row = the_email(message_id)
    assert row.status == EmailStatus.pending and row.attempts == 1
    assert row.error in {"SMTPServerDisconnected", "TimeoutError"}


def test_a_4xx_refusal_is_retried_and_the_message_goes_when_the_server_takes_it(
    app, app_context, smtp_server, no_grace
):
    smtp_server.refuse_recipients_with = "451 4.3.0 Mailbox of citizen.name@example.org busy, try later"
    message_id = queue()
    row = the_email(message_id)
    assert row.status == EmailStatus.pending and row.error == "smtp 451: recipient refused"
    assert "citizen" not in row.error  # the server's words (which repeat the address) are not kept

    smtp_server.refuse_recipients_with = None
    sweep_outbox()
    assert the_email(message_id).status == EmailStatus.sent
    assert len(smtp_server.messages()) == 1


def test_a_5xx_refusal_fails_for_good(app, app_context, smtp_server, no_grace):
    smtp_server.refuse_recipients_with = "550 5.1.1 <citizen.name@example.org>: no such mailbox"
    message_id = queue()
    row = the_email(message_id)
    assert row.status == EmailStatus.failed and row.attempts == 1
    assert row.error == "smtp 550: recipient refused"
    smtp_server.refuse_recipients_with = None
    assert sweep_outbox()["email_enqueued"] == 0  # not tried again, ever
    assert smtp_server.messages() == []


def test_out_of_attempts_a_transient_failure_fails(app, app_context, smtp_server, no_grace):
    smtp_server.stop()
    app.config["EMAIL_MAX_ATTEMPTS"] = 2
    try:
        message_id = queue()
        sweep_outbox()  # the second and last attempt
    finally:
        app.config["EMAIL_MAX_ATTEMPTS"] = 5
    row = the_email(message_id)
    assert row.status == EmailStatus.failed and row.attempts == 2


def test_without_smtp_host_the_email_is_kept_suppressed_and_nothing_is_sent(app, app_context, smtp_server):
    app.config["SMTP_HOST"] = ""
    message_id = queue()
    row = the_email(message_id)
    assert row.status == EmailStatus.suppressed and row.error == "no SMTP_HOST"
    assert smtp_server.messages() == []


# --- through RQ: a real worker, Redis down ---------------------------------------------


def test_an_smtp_outage_is_retried_by_rq_and_the_row_waits_queued(app, app_context, database_url, redis_url):
    port = free_port()  # nothing listens there yet
    message_id = queue()
    assert the_email(message_id).status == EmailStatus.queued
    run_worker(email_env(app, database_url, redis_url, None, port), "email")

    row = the_email(message_id)
    assert row.status == EmailStatus.queued and row.attempts == 1 and row.error == "ConnectionRefusedError"
    connection = app.extensions["hotline.redis"][redis_url]
    scheduled = ScheduledJobRegistry(queue_name("email"), connection=connection).get_job_ids()
    assert redis_job_id(f"email-{message_id}") in scheduled  # RQ's Retry runs it again in 10 s


def test_redis_down_leaves_the_rows_pending_and_the_sweep_has_a_worker_send_each_once(
    app, app_context, database_url, redis_url, smtp_server, no_grace
):
    use_redis(app, CLOSED_PORT_URL)
    ids = [queue(to=f"citizen{n}@example.org", key=f"down-{n}") for n in range(3)]
    assert [the_email(i).status for i in ids] == [EmailStatus.pending] * 3

    use_redis(app, redis_url)  # Redis is back
    assert sweep_outbox()["email_enqueued"] == 3
    enqueue_email(ids[0])  # a second job for one of them (a sweep racing the request)
    run_worker(email_env(app, database_url, redis_url, smtp_server), "email")
    run_worker(email_env(app, database_url, redis_url, smtp_server), "email")  # nothing left

    assert sorted(r.rcpt_tos[0] for r in smtp_server.messages()) == [f"citizen{n}@example.org" for n in range(3)]
    assert all(the_email(i).status == EmailStatus.sent for i in ids)


def test_a_row_left_sending_by_a_lost_worker_is_sent_again_by_the_sweep(app, app_context, smtp_server, no_grace):
    message = queue_email(to=ADDRESS, subject="s", body="b", language="en", key="lost")
    db.session.commit()  # not dispatched: a worker takes it below, and dies
    db.session.execute(
        update(EmailMessage)
        .where(EmailMessage.id == message.id)
        .values(status=EmailStatus.sending, attempts=1, claimed_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    counts = sweep_outbox()
    assert counts["email_reset"] == 1 and counts["email_enqueued"] == 1
    row = the_email(message.id)
    assert row.status == EmailStatus.sent and row.attempts == 2
    assert len(smtp_server.messages()) == 1


# --- who gets a row ----------------------------------------------------------------------


def test_the_daily_cap_per_address(app, app_context, smtp_server):
    app.config["EMAIL_MAX_PER_DESTINATION_DAY"] = 2
    try:
        assert queue(key="a") is not None
        assert queue(key="b", to="Citizen.Name@EXAMPLE.org") is not None  # the same address
        assert queue(key="c") is None  # a third in 24 hours: no row
        assert queue(key="a") is not None  # a replay of an earlier request still finds its row
        assert queue(key="d", to="someone.else@example.org") is not None
    finally:
        app.config["EMAIL_MAX_PER_DESTINATION_DAY"] = 20
    assert db.session.scalar(select(func.count()).select_from(EmailMessage)) == 3
    assert len(smtp_server.messages()) == 3


@pytest.mark.parametrize(
    "address",
    [
        "",
        "no-at-sign",
        "two@@example.org",
        "a@localhost",
        "a@example.123",
        "a b@example.org",
        "a@exa_mple.org",
        ".a@example.org",
        "a..b@example.org",
        "a@example.org\r\nBcc: victim@example.net",
        "x" * 65 + "@example.org",
        "a@" + "b" * 64 + ".org",
    ],
)
def test_an_implausible_address_gets_no_row(app_context, address):
    assert queue_email(to=address, subject="s", body="b", language="ar", key=f"bad-{address[:40]}") is None
    assert db.session.scalar(select(func.count()).select_from(EmailMessage)) == 0


def test_a_plausible_address_is_stored_in_lower_case_with_an_ascii_domain(app_context):
    message = queue_email(to=" Ali.Hasan+5599@Example.ORG ", subject="s", body="b", language="ar", key="k1")
    assert message.to_address == "ali.hasan+5599@example.org"
    message = queue_email(to="ali@بريد.عراق", subject="s", body="b", language="ar", key="k2")
    assert message.to_address.startswith("ali@xn--") and message.to_address.isascii()
    db.session.rollback()


def test_a_subject_stays_on_one_line(app_context, smtp_server):
    message_id = queue(subject="Line one\r\nBcc: victim@example.net")
    assert the_email(message_id).subject == "Line one Bcc: victim@example.net"
    [received] = smtp_server.messages()
    assert received.rcpt_tos == [ADDRESS] and received.message["Bcc"] is None


# --- privacy, retention ------------------------------------------------------------------


def test_nothing_personal_reaches_the_log(app, app_context, smtp_server, caplog, no_grace):
    caplog.set_level(logging.DEBUG)
    queue(key="sent")  # sent
    smtp_server.refuse_recipients_with = "550 5.1.1 <citizen.name@example.org>: no such mailbox"
    queue(key="refused")  # failed
    smtp_server.refuse_recipients_with = None
    smtp_server.stop()
    queue(key="down")  # retried
    app.config["EMAIL_MAX_PER_DESTINATION_DAY"] = 3
    try:
        assert queue(key="capped") is None  # refused by the cap
    finally:
        app.config["EMAIL_MAX_PER_DESTINATION_DAY"] = 20
    # The app's records, tracebacks included (the test server's own log, mail.log, says everything).
    text = "\n".join(logging.Formatter().format(r) for r in caplog.records if not r.name.startswith("mail."))
    assert "e-mail" in text and "daily cap" in text  # it did log
    assert "citizen" not in text.lower() and "example.org" not in text
    assert "4821" not in text and "سکاڵا" not in text and "شكوى" not in text
    assert "c***@***.org" in text  # a masked address is all a log may say


def test_finished_emails_are_purged_after_the_retention_and_owed_ones_never(app, app_context):
    old = utcnow() - timedelta(days=400)
    for key, status in (("old-sent", EmailStatus.sent), ("old-pending", EmailStatus.pending)):
        db.session.add(
            EmailMessage(
                idempotency_key=key,
                to_address=ADDRESS,
                subject="s",
                body="b",
                language="ar",
                status=status,
                created_at=old,
            )
        )
    db.session.add(
        EmailMessage(
            idempotency_key="new-sent",
            to_address=ADDRESS,
            subject="s",
            body="b",
            language="ar",
            status=EmailStatus.sent,
        )
    )
    db.session.commit()
    assert purge_retention()["email_messages"] == 1
    assert sorted(db.session.scalars(select(EmailMessage.idempotency_key))) == ["new-sent", "old-pending"]
