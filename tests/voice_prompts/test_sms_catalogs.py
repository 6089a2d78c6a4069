"""Do the SMS texts exist in every language, say only status, holder and date, and fit two parts?"""

from __future__ import annotations

from datetime import date

import pytest

from demo.letters import ENTITIES
from domain.sms import segments, sms_body, sms_catalog
from models import Direction, Entity, SmsKind, Status, Transaction
from voice_prompts import LANGUAGES, placeholders


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogs_have_the_same_keys_and_placeholders(language):
    reference, other = sms_catalog("en"), sms_catalog(language)
    assert set(other["messages"]) == set(reference["messages"]) == {"status", "notification"}
    assert set(other["status"]) == {s.value for s in Status}
    for key, template in reference["messages"].items():
        assert placeholders(other["messages"][key]) == placeholders(template) == {"status", "holder", "date"}


def letter_held_by(entity: Entity, status: Status) -> Transaction:
    return Transaction(
        number="123456789012",
        date=date(2024, 3, 15),
        direction=Direction.to_federal,
        holder=entity,
        status=status,
        status_date=date(2024, 12, 31),
        subject="سري",
        citizen_phone="+9647501234567",
    )


def longest_entities() -> list[Entity]:
    demo = [Entity(code=e.code, name_ar=e.name_ar, name_ckb=e.name_ckb, name_en=e.name_en) for e in ENTITIES]
    by_length = sorted(demo, key=lambda e: -max(len(e.name_ar), len(e.name_ckb), len(e.name_en)))
    # An entity at the importer's limit of 200 characters, in every language.
    huge = Entity(code="huge", name_ar="وزارة " * 33, name_ckb="وەزارەت " * 25, name_en="Ministry " * 22)
    return by_length[:5] + [huge]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", [SmsKind.status, SmsKind.notification])
def test_every_body_fits_two_segments(language, kind):
    for entity in longest_entities():
        for status in Status:
            body = sms_body(kind, letter_held_by(entity, status), language)
            assert segments(body) <= 2, (len(body), body)
            if language != "en":
                assert len(body.encode("utf-16-le")) // 2 <= 134


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_demo_entities_are_never_shortened(language):
    for entity in longest_entities()[:5]:
        body = sms_body(SmsKind.status, letter_held_by(entity, Status.awaiting_reply), language)
        assert entity.name(language) in body


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_body_discloses_status_holder_and_date_only(language):
    entity = longest_entities()[0]
    body = sms_body(SmsKind.status, letter_held_by(entity, Status.forwarded), language)
    assert "31/12/2024" in body
    assert "123456789012" not in body and "سري" not in body and "750" not in body
    assert "15/03/2024" not in body


def test_segment_counting():
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2
    assert segments("€" * 80) == 1 and segments("€" * 81) == 2
    assert segments("ب" * 70) == 1 and segments("ب" * 71) == 2 and segments("ب" * 134) == 2
    assert segments("ب" * 135) == 3
