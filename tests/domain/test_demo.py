"""The demo data: both governments, every status and direction, shared numbers, no duplicates."""

from __future__ import annotations

import re
from datetime import date, timedelta
from itertools import pairwise

from sqlalchemy import func, select

from demo.letters import ENTITIES, SOURCE, generate_letters, reset_demo, seed_demo
from extensions import db
from models import Call, Direction, Entity, Status, Transaction, TransactionEvent

TODAY = date(2025, 6, 30)


def letters() -> list[Transaction]:
    return list(db.session.scalars(select(Transaction).order_by(Transaction.id)).unique())


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_same_seed_makes_the_same_letters():
    assert generate_letters(200, 7, TODAY) == generate_letters(200, 7, TODAY)
    assert generate_letters(200, 7, TODAY) != generate_letters(200, 8, TODAY)


def test_entities_of_both_governments_have_three_names_and_a_slug_code():
    codes = [entity.code for entity in ENTITIES]
    assert len(ENTITIES) >= 40
    assert len(set(codes)) == len(codes)
    assert len({entity.name_ar for entity in ENTITIES}) == len(ENTITIES)
    assert {entity.government for entity in ENTITIES} == {"fed", "krg"}
    for entity in ENTITIES:
        assert re.fullmatch(r"(fed|krg)-[a-z0-9-]+", entity.code)
        assert entity.name_ar and entity.name_ckb and entity.name_en


def test_seeding_gives_every_status_both_directions_and_shared_numbers(app_context):
    assert seed_demo(letters=300, seed=5599, today=TODAY) == 300

    seeded = letters()
    assert len(seeded) == 300
    assert {t.status for t in seeded} == set(Status)
    assert {t.direction for t in seeded} == set(Direction)
    assert {(t.status, t.direction) for t in seeded} == {(s, d) for s in Status for d in Direction}
    shared = {}
    for t in seeded:
        shared.setdefault((t.number, t.date), set()).add(t.direction)
    assert sum(1 for directions in shared.values() if directions == set(Direction)) >= 3
    assert all(re.fullmatch(r"[1-9][0-9]{3,7}", t.number) for t in seeded)
    assert all(TODAY - timedelta(days=731) <= t.date <= t.status_date <= TODAY for t in seeded)
    phones = [t.citizen_phone for t in seeded if t.citizen_phone]
    assert 0 < len(phones) < len(seeded)
    assert all(re.fullmatch(r"\+9647[0-9]{9}", phone) for phone in phones)
    assert all(re.search("[\u0621-\u064a]", t.subject) for t in seeded)


def test_letters_go_between_the_two_governments(app_context):
    seed_demo(letters=100, seed=1, today=TODAY)

    for t in letters():
        sender, recipient = t.sender.code[:3], t.recipient.code[:3]
        assert (sender, recipient) == (("krg", "fed") if t.direction is Direction.to_federal else ("fed", "krg"))


def test_every_letter_has_a_history_that_ends_where_it_stands(app_context):
    seed_demo(letters=200, seed=3, today=TODAY)

    for t in letters():
        history = t.events
        assert history[0].previous_status is None and history[0].status is Status.received
        for before, after in pairwise(history):
            assert (after.previous_status, after.previous_holder_id) == (before.status, before.holder_id)
            assert before.status_date <= after.status_date
        last = history[-1]
        assert (last.status, last.holder_id, last.status_date) == (t.status, t.holder_id, t.status_date)
        assert {event.source for event in history} == {SOURCE}
    assert count(TransactionEvent) > count(Transaction)  # most letters moved on


def test_seeding_twice_does_not_duplicate(runner, app_context):
    first = runner.invoke(args=["demo", "seed", "--letters", "120"])
    counts = (count(Entity), count(Transaction), count(TransactionEvent))

    second = runner.invoke(args=["demo", "seed", "--letters", "120"])

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert f"seeded {len(ENTITIES)} entities and 120 letters" in first.output
    assert "already seeded (120 letters)" in second.output
    assert (count(Entity), count(Transaction), count(TransactionEvent)) == counts


def test_reset_seeds_again_from_scratch(runner, app_context):
    runner.invoke(args=["demo", "seed", "--letters", "120"])

    result = runner.invoke(args=["demo", "seed", "--letters", "80", "--seed", "2", "--reset"])

    assert result.exit_code == 0, result.output
    assert "deleted 120 demo letters" in result.output
    assert count(Transaction) == 80
    assert count(Entity) == len(ENTITIES)


def test_reset_keeps_the_calls_that_looked_up_a_demo_letter(app_context):
    seed_demo(letters=50, seed=1, today=TODAY)
    letter = letters()[0]
    number = letter.number
    db.session.add(Call(sid="CA" + "9" * 32, caller="+9647501234567", transaction_id=letter.id, asked_number=number))
    db.session.commit()

    assert reset_demo() == 50

    call = db.session.scalar(select(Call))
    assert (call.transaction_id, call.asked_number) == (None, number)
    assert count(Transaction) == count(TransactionEvent) == 0


def test_seeding_keeps_letters_that_are_not_demo_and_reuses_their_entities(runner, app_context):
    from domain.letters.importing import import_rows

    import_rows(
        [
            (
                2,
                {
                    "number": "42",
                    "date": "2024-01-02",
                    "direction": "to_federal",
                    "subject": "",
                    "sender": ENTITIES[-1].name_ar,
                    "recipient": ENTITIES[0].name_ar,
                    "holder": ENTITIES[0].name_ar,
                    "status": "received",
                    "status_date": "2024-01-02",
                    "phone": "",
                },
            )
        ]
    )

    runner.invoke(args=["demo", "seed", "--letters", "50"])
    runner.invoke(args=["demo", "seed", "--letters", "50", "--reset"])

    assert count(Transaction) == 51
    assert count(Entity) == len(ENTITIES)
    imported = db.session.scalar(select(Transaction).where(Transaction.number == "42"))
    assert imported.recipient.name_en == ENTITIES[0].name_en  # the import's entity got its names


def test_the_command_prints_examples_to_try_on_the_phone(runner, app_context):
    result = runner.invoke(args=["demo", "seed", "--letters", "100"])

    assert result.exit_code == 0, result.output
    rows = re.findall(r"^  (\d{4,8}) +(\d{8})  (to_federal|to_region) +(\w+)$", result.output, re.M)
    assert {status for *_, status in rows} == {s.value for s in Status}
    number, keyed, direction, status = rows[0]
    on = date(int(keyed[4:]), int(keyed[2:4]), int(keyed[:2]))
    letter = db.session.scalar(
        select(Transaction).where(
            Transaction.number == number, Transaction.date == on, Transaction.direction == Direction(direction)
        )
    )
    assert letter.status.value == status
    assert re.search(r"^  \d{4,8} +\d{8}  to_federal \(\w+\) / to_region \(\w+\)$", result.output, re.M)
