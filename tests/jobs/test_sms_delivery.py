"""Is every SMS sent once: through a real worker, with Redis down, and with a worker killed mid-send?"""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq import Queue

import jobs.housekeeping
from extensions import db
from jobs import queue_name, redis_job_id
from jobs.housekeeping import sweep_outbox
from models import SmsStatus
from tests.support.jobs import (
    CLOSED_PORT_URL,
    add_letter,
    forget_jobs,
    kill_hard,
    run_worker,
    start_worker,
    status_sms,
    the_message,
    use_redis,
    worker_env,
)
from tests.support.waiting import wait_for
from tests.support.webhooks import Twilio

PHONE = "+9647501234567"


@pytest.fixture
def no_grace(monkeypatch):
    """The sweep takes rows at once (normally it leaves the request a few seconds to enqueue)."""
    monkeypatch.setattr(jobs.housekeeping, "PENDING_GRACE", timedelta(0))


def env_for(app, database_url, redis_url, stand_in, **extra):
    return worker_env(app, database_url, redis_url, stand_in.url, **extra)


def test_one_request_is_one_message_through_a_real_worker(app, app_context, database_url, redis_url, sms_ready):
    letter = add_letter()
    first = status_sms(letter, key="ivr-CA1-1")
    again = status_sms(letter, key="ivr-CA1-1")  # the same request once more (a replayed webhook)
    assert first == again
    assert the_message(first).status == SmsStatus.queued
    assert len(Queue(queue_name("sms"), connection=app.extensions["hotline.redis"][redis_url])) == 1

    run_worker(env_for(app, database_url, redis_url, sms_ready), "sms")
    run_worker(env_for(app, database_url, redis_url, sms_ready), "sms")  # nothing left to do

    sent = sms_ready.messages_sent()
    assert len(sent) == 1
    assert sent[0].form["To"] == PHONE and sent[0].form["From"] == "+15005550006"
    assert "Federal Ministry of Finance" in sent[0].form["Body"]
    assert sent[0].form["StatusCallback"] == f"https://hotline.example.test/sms/status?m={first}"
    message = the_message(first)
    assert message.status == SmsStatus.sent and message.twilio_sid.startswith("SM")
    assert message.attempts == 1


def test_a_job_that_runs_twice_sends_once(app, app_context, database_url, redis_url, sms_ready):
    letter = add_letter()
    message_id = status_sms(letter)
    # The same job enqueued a second time (as a sweep racing the request would).
    from domain.sms import enqueue_sms

    enqueue_sms(message_id)
    run_worker(env_for(app, database_url, redis_url, sms_ready), "sms")
    assert len(sms_ready.messages_sent()) == 1
    assert the_message(message_id).status == SmsStatus.sent


def test_redis_down_leaves_the_row_pending_and_the_sweep_sends_it_once(
    app, app_context, database_url, redis_url, sms_ready, no_grace
):
    letter = add_letter()
    use_redis(app, CLOSED_PORT_URL)
    ids = [status_sms(letter, key=f"down-{n}", phone=f"+96475012345{n:02d}") for n in range(3)]
    assert [the_message(i).status for i in ids] == [SmsStatus.pending] * 3
    assert sms_ready.messages_sent() == []

    use_redis(app, redis_url)  # Redis is back
    counts = sweep_outbox()
    assert counts["enqueued"] == 3
    assert sweep_outbox()["enqueued"] == 0  # a second sweep finds nothing pending
    run_worker(env_for(app, database_url, redis_url, sms_ready), "sms")
    sweep_outbox()
    run_worker(env_for(app, database_url, redis_url, sms_ready), "sms")

    sent = sms_ready.messages_sent()
    assert sorted(r.form["To"] for r in sent) == [f"+96475012345{n:02d}" for n in range(3)]
    assert all(the_message(i).status == SmsStatus.sent for i in ids)


def test_a_worker_killed_mid_send_leads_to_a_retry_not_a_loss_nor_a_double(
    app, app_context, database_url, redis_url, sms_ready, no_grace
):
    letter = add_letter()
    message_id = status_sms(letter)
    sms_ready.message_delay_s = 30  # Twilio takes the message, then is slow to answer
    worker = start_worker(env_for(app, database_url, redis_url, sms_ready), "sms")
    try:
        wait_for(lambda: sms_ready.messages_sent(), 30, "the stand-in was never asked to send the SMS")
        assert the_message(message_id).status == SmsStatus.sending
    finally:
        kill_hard(worker)
    sms_ready.message_delay_s = 0

    # Later, the sweep finds the row stuck in "sending" past the timeout.
    app.config["SMS_SENDING_TIMEOUT_S"] = 0
    try:
        counts = sweep_outbox()
    finally:
        app.config["SMS_SENDING_TIMEOUT_S"] = 180
    assert counts["reset"] == 1 and counts["enqueued"] == 1
    run_worker(env_for(app, database_url, redis_url, sms_ready), "sms")

    message = the_message(message_id)
    assert message.status == SmsStatus.sent
    assert message.attempts == 2
    # The retry asked Twilio first, found the message the killed worker had made, and kept it.
    assert len(sms_ready.messages_sent()) == 1
    assert message.twilio_sid == sms_ready.messages[0]["sid"]


def test_a_twilio_outage_is_retried_by_rq_and_the_row_waits_queued(
    app, app_context, database_url, redis_url, sms_ready
):
    letter = add_letter()
    message_id = status_sms(letter)
    sms_ready.fail_with = 503
    run_worker(env_for(app, database_url, redis_url, sms_ready), "sms")
    message = the_message(message_id)
    assert message.status == SmsStatus.queued and message.attempts == 1
    assert "503" in message.error
    from rq.registry import ScheduledJobRegistry

    connection = app.extensions["hotline.redis"][redis_url]
    scheduled = ScheduledJobRegistry(queue_name("sms"), connection=connection).get_job_ids()
    assert redis_job_id(f"sms-{message_id}") in scheduled


def test_a_number_twilio_refuses_fails_without_retries(app, app_context, redis_url, sms_ready):
    letter = add_letter()
    use_redis(app, None)  # inline: the same job, run in this process
    sms_ready.fail_with = 400
    message_id = status_sms(letter)
    message = the_message(message_id)
    assert message.status == SmsStatus.failed and message.attempts == 1


def test_without_redis_a_twilio_outage_leaves_the_row_pending_for_the_sweep(app, app_context, sms_ready, no_grace):
    letter = add_letter()
    sms_ready.fail_with = 503
    message_id = status_sms(letter)  # inline: the job ran, failed, and gave the row back
    message = the_message(message_id)
    assert message.status == SmsStatus.pending and message.attempts == 1  # not "queued" for a job that never runs
    sms_ready.fail_with = None
    assert sweep_outbox()["enqueued"] == 1
    assert the_message(message_id).status == SmsStatus.sent


def test_without_redis_the_job_runs_inline(app, app_context, sms_ready):
    letter = add_letter()
    message_id = status_sms(letter)
    assert the_message(message_id).status == SmsStatus.sent
    assert len(sms_ready.messages_sent()) == 1


def test_delivery_callback_updates_the_row_and_is_signed(app, app_context, client, sms_ready):
    letter = add_letter()
    message_id = status_sms(letter)
    sid = the_message(message_id).twilio_sid
    twilio = Twilio(client)
    path = f"/sms/status?m={message_id}"
    unsigned = client.post(path, data={"MessageSid": sid, "MessageStatus": "delivered"})
    assert unsigned.status_code == 403
    assert the_message(message_id).status == SmsStatus.sent

    form = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32}
    assert twilio.client.post(path, data=form, headers=signed_headers(path, form)).status_code == 204
    assert the_message(message_id).status == SmsStatus.delivered
    late = {"MessageSid": sid, "MessageStatus": "sent", "AccountSid": "AC" + "0" * 32}
    client.post(path, data=late, headers=signed_headers(path, late))  # out of order: ignored
    assert the_message(message_id).status == SmsStatus.delivered


def test_undelivered_keeps_the_error_code(app, app_context, client, sms_ready):
    letter = add_letter()
    message_id = status_sms(letter)
    sid = the_message(message_id).twilio_sid
    path = f"/sms/status?m={message_id}"
    form = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    client.post(path, data=form, headers=signed_headers(path, form))
    message = the_message(message_id)
    assert message.status == SmsStatus.undelivered and message.error == "twilio 30003"


def signed_headers(path: str, form: dict) -> dict:
    from tests.support.webhooks import PUBLIC_BASE_URL, sign

    return {"X-Twilio-Signature": sign(PUBLIC_BASE_URL + path, form)}


# --- the safety rule -----------------------------------------------------------------


def test_demo_letters_never_get_an_sms(app, app_context, sms_ready):
    letter = add_letter(source="demo")
    message_id = status_sms(letter)
    message = the_message(message_id)
    assert message.status == SmsStatus.suppressed and message.error == "demo letter"
    assert sms_ready.messages_sent() == []


def test_outside_production_nothing_goes_to_the_real_twilio(app, app_context, sms_ready):
    letter = add_letter()
    previous = app.config["TWILIO_API_BASE_URL"]
    app.config["TWILIO_API_BASE_URL"] = "https://api.twilio.com"
    app.config["APP_ENV"] = "development"
    try:
        message_id = status_sms(letter)
    finally:
        app.config["TWILIO_API_BASE_URL"] = previous
        app.config["APP_ENV"] = "testing"
    message = the_message(message_id)
    assert message.status == SmsStatus.suppressed and "outside production" in message.error
    assert sms_ready.requests == []


def test_sms_disabled_suppresses_everything(app, app_context, sms_ready):
    letter = add_letter()
    app.config["SMS_ENABLED"] = False
    try:
        message_id = status_sms(letter)
    finally:
        app.config["SMS_ENABLED"] = True
    assert the_message(message_id).status == SmsStatus.suppressed
    assert sms_ready.messages_sent() == []


def test_landlines_get_no_sms_row(app, app_context, sms_ready):
    from domain.sms import send_status_sms
    from models import SmsKind

    letter = add_letter()
    assert (
        send_status_sms(transaction=letter, phone="+96466222333", language="ar", kind=SmsKind.status, key="x") is None
    )
    db.session.rollback()


def test_a_queued_row_whose_job_redis_lost_is_enqueued_again(app, app_context, database_url, redis_url, sms_ready):
    letter = add_letter()
    message_id = status_sms(letter)
    connection = app.extensions["hotline.redis"][redis_url]
    forget_jobs(connection)  # Redis restarted empty: the row says queued, no job exists
    app.config["SMS_SENDING_TIMEOUT_S"] = 0
    try:
        assert sweep_outbox()["lost"] == 1
    finally:
        app.config["SMS_SENDING_TIMEOUT_S"] = 180
    run_worker(env_for(app, database_url, redis_url, sms_ready), "sms")
    assert the_message(message_id).status == SmsStatus.sent
    assert len(sms_ready.messages_sent()) == 1
