"""Presence that is true (heartbeats, Offline without them, states and reasons, supervisors) and
routing by offer (language, longest idle, missed offers, the language wait, two nodes at once)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from domain.calls.offers import route
from domain.live import InProcessBroker
from domain.reporting.wallboard import wallboard_snapshot
from domain.staff.presence import day_figures, shown_presence
from domain.staff.users import someone_answering
from extensions import db
from models import AuditEntry, Call, CallOffer, Presence, PresenceChange, User
from tests.support.console import Stream, agent_client, call_sid, console_client, csrf_token, log_in, make_user

JSON = {"Accept": "application/json"}


@pytest.fixture
def offer_mode(app, monkeypatch):
    monkeypatch.setitem(app.config, "ROUTING_MODE", "offer")


def now() -> datetime:
    return datetime.now(timezone.utc)


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def waiting_call(n: int, language: str = "ar", waited_s: int = 5) -> Call:
    call = Call(
        sid=call_sid(n), caller="+9647501234567", language=language, queued_at=now() - timedelta(seconds=waited_s)
    )
    db.session.add(call)
    db.session.commit()
    return call


def agent(name: str, languages: str = "", idle_s: int = 0) -> User:
    user = make_user(name)
    user.languages = languages
    user.presence_since = now() - timedelta(seconds=idle_s)
    user.last_seen_at = now()
    db.session.commit()
    return user


def offered_to(call: Call) -> int | None:
    db.session.expire_all()
    return db.session.scalar(select(CallOffer.agent_id).where(CallOffer.call_id == call.id))


# --- presence -----------------------------------------------------------------------------


def test_an_agent_whose_consoles_went_quiet_is_offline_everywhere_at_once(app_context):
    amira = agent("amira")
    assert someone_answering() and wallboard_snapshot()["agents"]["available"] == 1
    amira.last_seen_at = now() - timedelta(seconds=61)  # the tab was closed a minute ago
    db.session.commit()
    assert shown_presence(amira) == Presence.offline
    assert wallboard_snapshot()["agents"]["available"] == 0
    assert not someone_answering()  # the IVR offers a callback instead of an endless queue
    assert route()["offline"] == 1  # the sweep writes it down, with the change kept
    amira = fresh(User, amira.id)
    assert amira.presence == Presence.offline
    assert (
        db.session.scalar(
            select(func.count()).select_from(PresenceChange).where(PresenceChange.presence == Presence.offline)
        )
        == 1
    )


def test_an_agent_on_a_call_stays_on_call_without_heartbeats(app_context):
    amira = agent("amira")
    amira.presence, amira.last_seen_at = Presence.on_call, now() - timedelta(minutes=5)
    db.session.commit()
    assert shown_presence(amira) == Presence.on_call and someone_answering()
    assert route()["offline"] == 0


def test_the_heartbeat_keeps_an_agent_present_and_brings_an_offline_one_back_away(app, app_context):
    client = agent_client(app, "amira")
    token = csrf_token(client, "/console/")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "amira"))
        user.presence, user.last_seen_at = Presence.offline, now() - timedelta(minutes=3)
        db.session.commit()
    answer = client.post("/console/heartbeat", headers={**JSON, "X-CSRFToken": token})
    assert answer.status_code == 200
    data = answer.get_json()
    assert data["state"]["presence"] == "away" and data["waiting"] == 0 and data["offer"] is None
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "amira"))
        assert user.last_seen_at > now() - timedelta(seconds=5)


@pytest.fixture
def ticking_stream(app, monkeypatch):
    monkeypatch.setitem(app.config, "SSE_KEEPALIVE_S", 1)
    app.extensions["hotline.broker"] = InProcessBroker()
    yield
    app.extensions.pop("hotline.broker", None)


def test_an_open_live_stream_keeps_an_agent_present_writing_rarely(app, app_context, ticking_stream, monkeypatch):
    client = agent_client(app, "amira")

    def amira() -> User:
        db.session.commit()  # a new transaction: what the stream wrote meanwhile
        return db.session.scalar(select(User).where(User.username == "amira"))

    def last_seen(set_to: datetime | None = None) -> datetime:
        user = amira()
        if set_to is not None:
            user.last_seen_at = set_to
            db.session.commit()
        return user.last_seen_at

    gone = now() - timedelta(hours=2)  # no heartbeat POST for long (e.g. a proxy blocks it)
    last_seen(gone)
    assert shown_presence(amira()) == Presence.offline
    monkeypatch.setitem(app.config, "PRESENCE_HEARTBEAT_S", 3600)
    stream = Stream(client)
    stream.next_event()
    seen = last_seen()
    assert seen > now() - timedelta(seconds=5)  # the open stream is a heartbeat
    assert shown_presence(amira()) == Presence.available
    other_tab = Stream(client)
    other_tab.next_event()
    for open_stream in (stream, other_tab):
        assert open_stream.next_block() == ": keep-alive"
    assert last_seen() == seen  # two streams, several ticks: one write in PRESENCE_HEARTBEAT_S
    other_tab.close()

    # Later ticks write again once PRESENCE_HEARTBEAT_S has passed.
    monkeypatch.setitem(app.config, "PRESENCE_HEARTBEAT_S", 1)
    stream.close()
    stream = Stream(client)
    stream.next_event()
    last_seen(gone)
    for _tick in range(2):
        assert stream.next_block() == ": keep-alive"
    assert last_seen() > now() - timedelta(seconds=5)
    stream.close()


def test_one_click_sets_available_or_away_with_a_reason(app, app_context):
    client = agent_client(app, "amira")
    token = csrf_token(client, "/console/")
    answer = client.post("/console/presence", data={"presence": "away:prayer", "csrf_token": token}, headers=JSON)
    assert answer.status_code == 200 and answer.get_json()["state"]["reason"] == "prayer"
    assert "Prayer" in answer.get_json()["state"]["label"]
    refused = client.post("/console/presence", data={"presence": "away:nap", "csrf_token": token}, headers=JSON)
    assert refused.status_code == 422
    refused = client.post("/console/presence", data={"presence": "on_call", "csrf_token": token}, headers=JSON)
    assert refused.status_code == 422
    page = client.get("/console/").get_data(as_text=True)
    assert 'value="away:prayer"' in page and 'aria-pressed="true"' in page
    # The picker shows the state as it is: in wrap-up, no button is pressed, the badge says so.
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "amira"))
        user.presence = Presence.wrap_up
        db.session.commit()
    page = client.get("/console/").get_data(as_text=True)
    assert 'aria-pressed="true"' not in page and ">Wrap-up<" in page


def test_a_supervisor_sets_an_agents_state_and_logs_them_out(app, app_context):
    aya = agent_client(app, "aya")
    sami = agent_client(app, "sami", role=__import__("models").Role.supervisor)
    with app.app_context():
        aya_id = db.session.scalar(select(User.id).where(User.username == "aya"))
    token = csrf_token(sami, "/console/agents")
    set_state = sami.post(f"/console/agents/{aya_id}/presence", data={"presence": "away:training", "csrf_token": token})
    assert set_state.status_code == 303
    out = sami.post(f"/console/agents/{aya_id}/logout", data={"csrf_token": token})
    assert out.status_code == 303
    with app.app_context():
        user = db.session.get(User, aya_id)
        assert user.presence == Presence.offline
        actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_id == str(aya_id))))
        assert {"presence_set", "agent_logout"} <= actions
    # Aya's session ended: her next request goes to the login page.
    assert aya.get("/console/").status_code == 302
    assert aya.post("/console/heartbeat", headers=JSON).status_code in (302, 400, 401)
    # An agent cannot do it.
    other = console_client(app)
    log_in(other, "aya")
    assert (
        other.post(f"/console/agents/{aya_id}/logout", data={"csrf_token": csrf_token(other, "/console/")}).status_code
        == 403
    )


def test_an_agents_day_counts_time_in_each_state(app_context):
    amira = agent("amira")
    start = now() - timedelta(minutes=10)
    db.session.add_all(
        [
            PresenceChange(user_id=amira.id, presence=Presence.available, at=start),
            PresenceChange(user_id=amira.id, presence=Presence.away, reason="break", at=start + timedelta(minutes=4)),
        ]
    )
    db.session.commit()
    day = day_figures(amira, start + timedelta(minutes=10))
    assert day["seconds"]["available"] == 240 and day["seconds"]["away"] == 360
    assert day["calls"] == 0 and day["average_handle_s"] is None


# --- routing by offer -----------------------------------------------------------------------


def test_the_longest_waiting_caller_goes_to_the_longest_idle_agent_who_speaks_their_language(app_context, offer_mode):
    english = agent("edward", languages="en", idle_s=600)  # idle longest, but no Arabic
    arabic_recent = agent("amira", languages="ar,ckb", idle_s=60)
    arabic_idle = agent("bilal", languages="ar", idle_s=300)
    older, newer = waiting_call(1, "ar", waited_s=20), waiting_call(2, "ar", waited_s=5)
    assert route()["offered"] == 2
    assert offered_to(older) == arabic_idle.id
    assert offered_to(newer) == arabic_recent.id
    assert english.id not in {offered_to(older), offered_to(newer)}


def test_an_offer_not_accepted_in_time_makes_the_agent_away_missed_and_goes_to_the_next(app, app_context, offer_mode):
    first = agent("amira", idle_s=300)
    second = agent("bilal", idle_s=100)
    call = waiting_call(1)
    route()
    assert offered_to(call) == first.id
    later = now() + timedelta(seconds=app.config["OFFER_TIMEOUT_S"] + 1)
    done = route(later)
    assert done["missed"] == 1
    assert offered_to(call) == second.id
    first = fresh(User, first.id)
    assert first.presence == Presence.away and first.away_reason == "missed"


def test_nobody_with_the_language_free_for_a_while_means_any_available_agent(app, app_context, offer_mode):
    english = agent("edward", languages="en")
    call = waiting_call(1, "ckb", waited_s=5)
    route()
    assert offered_to(call) is None
    call.queued_at = now() - timedelta(seconds=app.config["LANGUAGE_WAIT_S"] + 1)
    db.session.commit()
    route()
    assert offered_to(call) == english.id


def test_only_the_agent_offered_takes_the_caller(app, app_context, offer_mode, twilio_api):
    waiting_call(1)
    amira = agent_client(app, "amira")
    bilal = agent_client(app, "bilal")
    with app.app_context():
        call_id = db.session.scalar(select(Call.id))
        ids = dict(db.session.execute(select(User.username, User.id)).all())
        db.session.query(User).filter(User.username == "bilal").update({"presence_since": now()})
        db.session.commit()
        route()
        offered = db.session.scalar(select(CallOffer.agent_id))
    winner, loser = (amira, bilal) if offered == ids["amira"] else (bilal, amira)
    refused = loser.post(
        f"/console/calls/{call_id}/take", headers={**JSON, "X-CSRFToken": csrf_token(loser, "/console/")}
    )
    assert refused.status_code == 409 and refused.get_json()["reason"] == "not_offered"
    taken = winner.post(
        f"/console/calls/{call_id}/take", headers={**JSON, "X-CSRFToken": csrf_token(winner, "/console/")}
    )
    assert taken.status_code == 200, taken.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CallOffer)) == 0
        assert db.session.get(Call, call_id).agent_id == offered


def test_two_nodes_routing_at_once_never_double_offer(app, app_context, offer_mode):
    calls = [waiting_call(n, waited_s=30 - n) for n in range(1, 7)]
    agents = [agent(f"agent{n}", idle_s=100 - n) for n in range(4)]
    start = threading.Barrier(4)
    errors = []

    def node():
        with app.app_context():
            try:
                start.wait()
                route()
            except Exception as error:  # pragma: no cover - shown by the assertion
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=node) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    db.session.expire_all()
    offers = list(db.session.execute(select(CallOffer.call_id, CallOffer.agent_id)))
    assert len(offers) == len(agents)  # every agent offered one caller
    assert len({call_id for call_id, _ in offers}) == len(offers)
    assert len({agent_id for _, agent_id in offers}) == len(offers)
    assert {call_id for call_id, _ in offers} == {call.id for call in calls[:4]}  # the longest waiting


def test_list_mode_makes_no_offers(app_context):
    agent("amira")
    waiting_call(1)
    assert route().get("offered", 0) == 0
    assert db.session.scalar(select(func.count()).select_from(CallOffer)) == 0
