"""Drill: the database host drops off the network in the middle of a call, then comes back.

A stopped PostgreSQL refuses connections at once (test_postgres_down.py). A host that
vanishes, or a network that fails between the web nodes and the database, refuses
nothing: what is sent is dropped without a word, and a connection already open waits for
an answer that never comes. Without a deadline of its own the webhook would hang until
Twilio gave up on it (15 s of silence for the caller) and the worker stayed stuck for
minutes, until TCP gave up on the connection.

Here a private cluster runs in a network namespace of its own, reached over a veth pair
(the `network_namespace` fixture); half a call is played through gunicorn, then the
namespace's end of the link is taken down. Every webhook must still answer the apology
within DB_TCP_USER_TIMEOUT_MS + DB_CONNECT_TIMEOUT_S, and once the link is back, calls go
through and what was written before the cut is all there, once.

PostgreSQL pass only, for the reasons test_postgres_down.py gives.
"""

from __future__ import annotations

import pytest

from tests.support.drills import (
    APOLOGY_AR,
    APOLOGY_EN,
    HALF_A_CALL,
    HttpTwilio,
    answered_within,
    call_steps,
    migrated_app,
    private_cluster,
    sid,
)
from tests.support.ivr import Answer, Caller

pytestmark = [pytest.mark.gunicorn, pytest.mark.usefixtures("postgres_pass")]
TOKEN = "drill-unreachable-token"
CONNECT_TIMEOUT_S = 2
TCP_USER_TIMEOUT_MS = 1500
# A dead pooled connection is noticed after the TCP timeout; the one fresh connection tried
# then gives up after the connect timeout. A second for everything else.
BUDGET_S = TCP_USER_TIMEOUT_MS / 1000 + CONNECT_TIMEOUT_S + 1


@pytest.fixture
def remote_cluster(network_namespace):  # noqa: F811
    """A private cluster behind the namespace's link, migrated, with letter 1234."""
    with private_cluster(network_namespace) as cluster, migrated_app(cluster.url) as app:
        yield cluster, app


def answered_in_time(response) -> Answer:
    return answered_within(
        response, BUDGET_S, f"DB_TCP_USER_TIMEOUT_MS={TCP_USER_TIMEOUT_MS}, DB_CONNECT_TIMEOUT_S={CONNECT_TIMEOUT_S}"
    )


def test_the_database_host_dropping_off_mid_call_means_apologies_in_time_and_nothing_lost(
    network_namespace, remote_cluster, gunicorn
):  # noqa: F811
    cluster, app = remote_cluster
    server = gunicorn(
        {
            "DATABASE_URL": cluster.url,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "AGENT_HOURS": "00:00-24:00",
            "DB_CONNECT_TIMEOUT_S": CONNECT_TIMEOUT_S,
            "DB_TCP_USER_TIMEOUT_MS": TCP_USER_TIMEOUT_MS,
        },
        workers=1,
    )  # one worker: its pooled connection is open when the link goes
    caller = Caller(HttpTwilio(server.base, TOKEN, sid(1)))
    assert "Now key in the date" in caller.walk("3", "1", "1234", "1").text
    assert call_steps(app, sid(1)) == HALF_A_CALL

    network_namespace.cut()
    try:
        answer = answered_in_time(caller.twilio.post(caller.answer.action, Digits="15032024"))
        assert APOLOGY_EN in answer.text and answer.enqueued is not None
        # Twilio then asks for hold music while the caller waits for an agent.
        hold = answered_in_time(caller.twilio.post("/ivr/queue/wait?lang=en", QueuePosition="2"))
        assert hold.played and "You are number 2 in line." in hold.text
        new_call = answered_in_time(HttpTwilio(server.base, TOKEN, sid(2)).post("/ivr/voice"))
        assert APOLOGY_AR in new_call.text and new_call.enqueued is not None
        status = caller.twilio.post("/ivr/status", CallStatus="completed", CallDuration="41")
        # Not stored: an error status, in time all the same, so that Twilio sends it again.
        assert status.status_code == 503 and status.elapsed_s < BUDGET_S, status
        assert answered_in_time(HttpTwilio(server.base, TOKEN, sid(3)).post("/ivr/fallback")).hung_up
    finally:
        network_namespace.mend()

    fresh = Caller(HttpTwilio(server.base, TOKEN, sid(4)))
    answer = fresh.walk("3", "1", "1234", "1", "15032024", "1")
    assert "This letter has been forwarded." in answer.text, answer.text
    # Twilio's retry of the status callback refused during the cut is stored now.
    assert len(Answer.of(caller.twilio.post("/ivr/status", CallStatus="completed", CallDuration="41")).root) == 0
    # Written before the cut, once; nothing during it; then the status callback Twilio sent again.
    assert call_steps(app, sid(1)) == HALF_A_CALL + ["status"]
    assert call_steps(app, sid(2)) == []
    assert call_steps(app, sid(4)) == HALF_A_CALL + ["date", "date_confirm"]
