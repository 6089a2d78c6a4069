"""The batch import of letters: what loads, what is refused and why, and that nothing is lost."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import delete, func, select

from domain.letters.importing import HEADER, ImportFileError, LetterRow, entity_code, import_csv, validate_row
from extensions import db
from models import Direction, Entity, Status, Transaction, TransactionEvent

TODAY = date(2025, 6, 30)
FINANCE = "وزارة المالية الاتحادية"
PLANNING = "وزارة التخطيط الاتحادية"
KRG_FINANCE = "وزارة المالية والاقتصاد في إقليم كوردستان"
HEADER_LINE = ",".join(HEADER)


def row(**changes) -> dict:
    values = {
        "number": "1234",
        "date": "2024-03-05",
        "direction": "to_federal",
        "subject": "تمويل رواتب موظفي الإقليم",
        "sender": KRG_FINANCE,
        "recipient": FINANCE,
        "holder": FINANCE,
        "status": "received",
        "status_date": "2024-03-06",
        "phone": "",
    }
    values.update(changes)
    return values


def csv_text(*rows: dict | list, header: str = HEADER_LINE) -> str:
    out = io.StringIO()
    out.write(header + "\n")
    writer = csv.writer(out, lineterminator="\n")
    for item in rows:
        writer.writerow([item[name] for name in HEADER] if isinstance(item, dict) else item)
    return out.getvalue()


def load(*rows, **options):
    options.setdefault("today", TODAY)
    return import_csv(io.StringIO(csv_text(*rows)), **options)


def stored(number: str = "1234", direction: Direction = Direction.to_federal) -> Transaction:
    return db.session.scalar(
        select(Transaction).where(Transaction.number == number, Transaction.direction == direction)
    )


def events_of(transaction: Transaction) -> list[TransactionEvent]:
    return list(
        db.session.scalars(
            select(TransactionEvent)
            .where(TransactionEvent.transaction_id == transaction.id)
            .order_by(TransactionEvent.id)
        )
    )


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- a good file --------------------------------------------------------------------------


def test_a_good_file_loads_every_letter_with_its_entities_and_first_event(app_context):
    report = load(
        row(phone="0750 123 4567"),
        row(
            number="77",
            direction="to_region",
            sender=FINANCE,
            recipient=KRG_FINANCE,
            holder=PLANNING,
            status="forwarded",
            status_date="2024-03-10",
        ),
    )

    assert (report.added, report.updated, report.unchanged, report.rejected) == (2, 0, 0, [])
    letter = stored()
    assert (letter.date, letter.status, letter.status_date) == (date(2024, 3, 5), Status.received, date(2024, 3, 6))
    assert letter.citizen_phone == "+9647501234567"
    assert (letter.sender.name_ar, letter.recipient.name_ar, letter.holder.name_ar) == (KRG_FINANCE, FINANCE, FINANCE)
    assert stored("77", Direction.to_region).holder.name_ar == PLANNING
    assert count(Entity) == 3
    [event] = events_of(letter)
    assert (event.status, event.holder_id, event.status_date) == (Status.received, letter.holder_id, letter.status_date)
    assert (event.previous_status, event.previous_holder_id, event.source) == (None, None, "import")


def test_new_entities_get_a_stable_ascii_code_and_empty_translations(app_context):
    load(row())

    entity = db.session.scalar(select(Entity).where(Entity.name_ar == FINANCE))
    assert entity.code == entity_code(FINANCE)
    assert entity.code.isascii() and entity.code.startswith("e-")
    assert (entity.name_ckb, entity.name_en) == ("", "")


def test_entities_are_matched_on_their_arabic_name(app_context):
    db.session.add(Entity(code="fed-finance", name_ar=FINANCE, name_ckb="وەزارەتی دارایی", name_en="Finance"))
    db.session.commit()

    load(row(recipient="  وزارة   المالية الاتحادية "))  # spacing is not part of the name

    assert stored().recipient.code == "fed-finance"
    assert count(Entity) == 2


def test_validating_a_row_needs_no_app_and_no_database():
    checked = validate_row(row(number=" 0042 ", subject="  طلب \n تمويل ", phone="+964 770 123 4567"), today=TODAY)

    assert checked == LetterRow(
        number="0042",
        date=date(2024, 3, 5),
        direction=Direction.to_federal,
        subject="طلب تمويل",
        sender=KRG_FINANCE,
        recipient=FINANCE,
        holder=FINANCE,
        status=Status.received,
        status_date=date(2024, 3, 6),
        phone="+9647701234567",
    )


def test_values_that_are_not_text_are_read_as_text():
    """An HTTP API may hand over JSON numbers and nulls."""
    checked = validate_row(row(number=1234, phone=None, subject=None), today=TODAY)

    assert isinstance(checked, LetterRow)
    assert (checked.number, checked.phone, checked.subject) == ("1234", None, "")


# --- bad rows -----------------------------------------------------------------------------

BAD_ROWS = [
    ({"number": ""}, "number is empty"),
    ({"number": "12a4"}, "number '12a4' must be 1 to 12 digits"),
    ({"number": "1234567890123"}, "must be 1 to 12 digits"),
    ({"number": "١٢٣٤"}, "must be 1 to 12 digits"),  # Arabic-Indic digits are not keyed on a phone
    ({"date": ""}, "date is empty"),
    ({"date": "05/03/2024"}, "date '05/03/2024' is not a date written YYYY-MM-DD"),
    ({"date": "20240305"}, "is not a date written YYYY-MM-DD"),
    ({"date": "2023-02-29"}, "date '2023-02-29' is not a real calendar date"),
    ({"date": "1999-12-31", "status_date": "2000-01-02"}, "date 1999-12-31 is before 2000-01-01"),
    ({"date": "2025-07-01", "status_date": "2025-07-01"}, "date 2025-07-01 is in the future"),
    ({"direction": "north"}, "direction 'north' is not one of to_federal, to_region"),
    ({"direction": ""}, "direction is empty"),
    ({"status": "closed"}, "status 'closed' is not one of received, under_review"),
    ({"status_date": "2024-03-04"}, "status_date 2024-03-04 is before date 2024-03-05"),
    ({"status_date": "2024-13-01"}, "status_date '2024-13-01' is not a real calendar date"),
    ({"status_date": "2025-07-01"}, "status_date 2025-07-01 is in the future"),
    ({"sender": "Ministry of Finance"}, "sender 'Ministry of Finance' is not an Arabic entity name"),
    ({"recipient": "2024-03-05"}, "recipient '2024-03-05' is not an Arabic entity name"),
    ({"holder": ""}, "holder is empty"),
    ({"holder": "و" * 201}, "holder is longer than 200 characters"),
    ({"subject": "ط" * 501}, "subject is longer than 500 characters"),
    ({"subject": "طلب\x00"}, "subject contains the control character U+0000"),
    ({"number": "12\x0734"}, "number contains the control character U+0007"),
    ({"phone": "12"}, "phone '12' is not a phone number"),
    ({"phone": "call me"}, "phone 'call me' is not a phone number"),
    ({"phone": "anonymous"}, "phone 'anonymous' is not a phone number"),
]


@pytest.mark.parametrize("changes, reason", BAD_ROWS, ids=[r for _, r in BAD_ROWS])
def test_a_bad_row_is_refused_with_its_line_and_reason_and_the_others_still_load(app_context, changes, reason):
    report = load(row(number="1"), row(**{"number": "2", **changes}), row(number="3"))

    [(line, said)] = report.rejected
    assert line == 3
    assert reason in said
    assert report.added == 2
    assert stored("1") is not None and stored("3") is not None


def test_every_problem_of_a_row_is_named(app_context):
    report = load(row(number="x", direction="up", status="lost", phone="?"))

    [(line, reason)] = report.rejected
    assert line == 2
    for field in ("number", "direction", "status", "phone"):
        assert field in reason


@pytest.mark.parametrize(
    "fields, reason",
    [
        (["1234", "2024-03-05", "to_federal"], "has 3 fields, the header has 10"),
        (list(row().values()) + ["extra"], "has 11 fields, the header has 10"),
        (["1234"], "has 1 field, the header has 10"),
    ],
)
def test_a_row_with_the_wrong_number_of_fields_is_refused(app_context, fields, reason):
    report = load(row(number="1"), fields, row(number="3"))

    assert report.rejected == [(3, reason)]
    assert report.added == 2


def test_lines_are_counted_as_an_editor_counts_them(app_context):
    """A quoted subject may span lines; blank lines still count."""
    text = csv_text(row(number="1", subject="سطر أول\nسطر ثان\nسطر ثالث"))
    text += "\n" + csv_text(row(number="2", direction="sideways"), header="").lstrip("\n")

    report = import_csv(io.StringIO(text), today=TODAY)

    assert report.rejected == [(6, "direction 'sideways' is not one of to_federal, to_region")]
    assert stored("1").subject == "سطر أول سطر ثان سطر ثالث"


def test_a_row_that_is_not_utf8_is_refused_and_the_others_load(app_context, tmp_path):
    good = csv_text(row(number="1")).encode("utf-8")
    bad = csv_text(row(number="2"), header="").lstrip("\n").encode("cp1256")
    path = tmp_path / "letters.csv"
    path.write_bytes(good + bad + csv_text(row(number="3"), header="").lstrip("\n").encode("utf-8"))

    report = import_csv(path, today=TODAY)

    [(line, reason)] = report.rejected
    assert line == 3 and "is not valid UTF-8 text" in reason
    assert report.added == 2


def test_a_field_too_large_for_csv_is_refused_on_its_line(app_context):
    huge = ["1", "x" * 200_000] + [""] * 8
    report = load(row(number="1"), huge, row(number="3"))

    [(line, reason)] = report.rejected
    assert line == 3 and "not readable as CSV" in reason
    assert report.added == 2


def test_blank_lines_are_skipped(app_context):
    text = csv_text(row(number="1")) + "\n\n" + csv_text(row(number="2"), header="").lstrip("\n") + "\n"

    report = import_csv(io.StringIO(text), today=TODAY)

    assert (report.added, report.rejected) == (2, [])


def test_the_date_limit_is_today_in_baghdad(app_context, app):
    from domain.clock import local_today

    today = local_today(app.config["TIMEZONE"])
    tomorrow = (today + timedelta(days=1)).isoformat()
    report = import_csv(
        io.StringIO(
            csv_text(
                row(number="1", date=today.isoformat(), status_date=today.isoformat()),
                row(number="2", date=tomorrow, status_date=tomorrow),
            )
        )
    )

    assert report.added == 1
    assert report.rejected == [(3, f"date {tomorrow} is in the future; status_date {tomorrow} is in the future")]


# --- duplicates, updates, idempotence ------------------------------------------------------


def test_a_later_duplicate_key_in_the_same_file_is_refused_naming_the_first_line(app_context):
    report = load(
        row(status="received"),
        row(number="99"),
        row(status="replied", holder=KRG_FINANCE),
        row(direction="to_region", sender=FINANCE, recipient=KRG_FINANCE),  # other direction: fine
    )

    assert report.rejected == [(4, "same number, date and direction as line 2")]
    assert report.added == 3
    assert stored().status == Status.received


def test_a_refused_first_row_does_not_make_its_key_a_duplicate(app_context):
    report = load(row(status="nope"), row(status="under_review"))

    assert [line for line, _ in report.rejected] == [2]
    assert stored().status == Status.under_review


def test_loading_the_same_file_twice_changes_nothing_the_second_time(app_context):
    rows = [row(number=str(n), phone="07701234567") for n in range(1, 6)]
    load(*rows)
    before = {t.id: t.updated_at for t in db.session.scalars(select(Transaction))}
    db.session.expire_all()

    again = load(*rows)

    assert (again.added, again.updated, again.unchanged, again.rejected) == (0, 0, 5, [])
    assert count(TransactionEvent) == 5
    assert {t.id: t.updated_at for t in db.session.scalars(select(Transaction))} == before


def test_a_status_change_updates_the_letter_and_records_an_event(app_context):
    load(row())
    first_holder = stored().holder_id

    report = load(row(status="forwarded", holder=PLANNING, status_date="2024-03-09"))

    assert (report.added, report.updated, report.unchanged) == (0, 1, 0)
    db.session.expire_all()
    letter = stored()
    assert (letter.status, letter.holder.name_ar, letter.status_date) == (Status.forwarded, PLANNING, date(2024, 3, 9))
    first, second = events_of(letter)
    assert (second.status, second.holder_id, second.status_date) == (
        Status.forwarded,
        letter.holder_id,
        date(2024, 3, 9),
    )
    assert (second.previous_status, second.previous_holder_id) == (Status.received, first_holder)
    assert second.source == "import"


def test_a_holder_change_alone_records_an_event(app_context):
    load(row(status="forwarded"))
    load(row(status="forwarded", holder=PLANNING))

    [_, event] = events_of(stored())
    assert (event.status, event.previous_status) == (Status.forwarded, Status.forwarded)
    assert event.previous_holder_id != event.holder_id


def test_other_changes_update_the_letter_without_an_event(app_context):
    load(row())

    report = load(row(subject="موضوع مصحح", phone="0750 111 2233"))

    assert report.updated == 1
    db.session.expire_all()
    assert (stored().subject, stored().citizen_phone) == ("موضوع مصحح", "+9647501112233")
    assert len(events_of(stored())) == 1


def test_batches_share_entities_and_see_letters_of_earlier_batches(app_context):
    rows = [row(number=str(n), holder=[FINANCE, PLANNING][n % 2]) for n in range(1, 8)]
    load(*rows, batch_size=3)

    report = load(*rows[:4], row(number="5", status="replied"), *rows[5:], batch_size=2)

    assert (report.added, report.updated, report.unchanged) == (0, 1, 6)
    assert count(Entity) == 3
    assert count(TransactionEvent) == 8


def test_a_letter_inserted_meanwhile_by_another_import_is_found_on_a_second_try(app_context, monkeypatch):
    from domain.letters import importing as importer

    load(row())
    real_look_up, calls = importer._Importer._look_up, []

    def blind_first_time(self):
        calls.append(1)
        if len(calls) > 1:  # the first time the stored letter is not seen, as if not yet committed
            real_look_up(self)

    monkeypatch.setattr(importer._Importer, "_look_up", blind_first_time)
    report = load(row(status="replied"))

    assert (report.added, report.updated, len(calls)) == (0, 1, 2)
    assert count(Transaction) == 1


# --- the file as a whole -------------------------------------------------------------------


@pytest.mark.parametrize(
    "header, message",
    [
        ("number,date,direction,subject,sender,recipient,holder,status,status_date", "missing phone"),
        (
            "number,date,direction,subject,sender,recipient,holder,state,status_date,phone",
            "missing status; unexpected 'state'",
        ),
        (HEADER_LINE + ",notes", "unexpected 'notes'"),
        (HEADER_LINE + ",phone", "repeated phone"),
        ("1234,2024-03-05,to_federal,x,a,b,c,received,2024-03-06,", "missing number, date"),
    ],
)
def test_a_wrong_header_is_an_error_naming_the_columns(app_context, header, message):
    with pytest.raises(ImportFileError) as raised:
        import_csv(io.StringIO(header + "\n"), today=TODAY)

    assert message in str(raised.value)
    assert "expected: " + HEADER_LINE in str(raised.value)
    assert count(Transaction) == 0


def test_header_columns_may_come_in_any_order_with_spaces(app_context):
    names = list(reversed(HEADER))
    text = " , ".join(names) + "\n" + ",".join(row()[name] for name in names) + "\n"

    assert import_csv(io.StringIO(text), today=TODAY).added == 1


@pytest.mark.parametrize("content", ["", "\ufeff"])
def test_an_empty_file_is_an_error(app_context, content):
    with pytest.raises(ImportFileError, match="the file is empty"):
        import_csv(io.StringIO(content), today=TODAY)


def test_a_header_alone_loads_nothing(app_context):
    report = import_csv(io.StringIO(HEADER_LINE + "\n"), today=TODAY)

    assert (report.added, report.updated, report.unchanged, report.rejected) == (0, 0, 0, [])


def test_a_byte_order_mark_is_tolerated_in_text_and_in_files(app_context, tmp_path):
    assert import_csv(io.StringIO("\ufeff" + csv_text(row(number="1"))), today=TODAY).added == 1
    path = tmp_path / "excel.csv"
    path.write_bytes(csv_text(row(number="2")).replace("\n", "\r\n").encode("utf-8-sig"))
    assert import_csv(str(path), today=TODAY).added == 1
    assert import_csv(io.BytesIO(path.read_bytes()), today=TODAY).unchanged == 1


def test_an_unreadable_path_is_an_error(app_context, tmp_path):
    with pytest.raises(ImportFileError, match="cannot read"):
        import_csv(tmp_path / "missing.csv")
    with pytest.raises(ImportFileError, match="cannot read"):
        import_csv(tmp_path)


# --- arbitrary input -----------------------------------------------------------------------

ENTITY_NAMES = (FINANCE, PLANNING, KRG_FINANCE, "ممثلية حكومة إقليم كوردستان في بغداد")
SAFE_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=30)


@st.composite
def good_rows(draw) -> dict:
    on = draw(st.dates(min_value=date(2000, 1, 1), max_value=TODAY))
    changed = draw(st.dates(min_value=on, max_value=TODAY))
    return row(
        number=draw(st.from_regex(r"[0-9]{1,12}", fullmatch=True)),
        date=on.isoformat(),
        status_date=changed.isoformat(),
        direction=draw(st.sampled_from([d.value for d in Direction])),
        status=draw(st.sampled_from([s.value for s in Status])),
        subject=draw(SAFE_TEXT),
        sender=draw(st.sampled_from(ENTITY_NAMES)),
        recipient=draw(st.sampled_from(ENTITY_NAMES)),
        holder=draw(st.sampled_from(ENTITY_NAMES)),
        phone=draw(st.sampled_from(["", "07501234567", "+964 770 765 4321", " 0780-111-2222 "])),
    )


def mutate(good: dict, field: str, value: str) -> dict:
    return {**good, field: value}


ANY_ROW = st.one_of(
    good_rows().map(lambda r: [r[name] for name in HEADER]),
    st.builds(mutate, good_rows(), st.sampled_from(HEADER), st.text(max_size=20)).map(
        lambda r: [r[name] for name in HEADER]
    ),
    st.lists(st.text(max_size=12), max_size=12),
)


@given(good_rows())
@settings(max_examples=200)
def test_every_well_formed_row_is_accepted(raw):
    assert isinstance(validate_row(raw, today=TODAY), LetterRow)


@given(st.dictionaries(st.sampled_from(HEADER + ("other",)), st.one_of(st.none(), st.text(), st.integers())))
@settings(max_examples=300)
def test_validating_any_dict_returns_a_row_or_a_reason(raw):
    assert isinstance(validate_row(raw, today=TODAY), (LetterRow, str))


@given(st.lists(ANY_ROW, max_size=25), st.sampled_from([1, 4, 1000]))
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_arbitrary_rows_never_raise_and_never_lose_a_valid_row(app_context, rows, batch_size):
    empty_tables()
    text, lines = io.StringIO(), []
    text.write(HEADER_LINE + "\r\n")
    writer = csv.writer(text)  # "\r\n" ends rows, so a field holding "\r" gets quoted
    for fields in rows:
        lines.append(text.getvalue().count("\n") + 1)
        writer.writerow(fields)

    report = import_csv(io.StringIO(text.getvalue()), today=TODAY, batch_size=batch_size)

    expected_rejected, valid, first_line = [], {}, {}
    for line, fields in zip(lines, rows, strict=True):
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if len(fields) != len(HEADER):
            expected_rejected.append(line)
            continue
        checked = validate_row(dict(zip(HEADER, fields, strict=True)), today=TODAY)
        if isinstance(checked, str) or checked.key in first_line:
            expected_rejected.append(line)
            continue
        first_line[checked.key] = line
        valid[checked.key] = checked
    assert [line for line, _ in report.rejected] == expected_rejected
    assert (report.added, report.updated, report.unchanged) == (len(valid), 0, 0)
    loaded = {
        (t.number, t.date, t.direction): (t.status, t.status_date, t.holder.name_ar, t.citizen_phone, t.subject)
        for t in db.session.scalars(select(Transaction)).unique()
    }
    assert loaded == {key: (r.status, r.status_date, r.holder, r.phone, r.subject) for key, r in valid.items()}


def empty_tables() -> None:
    for model in (TransactionEvent, Transaction, Entity):
        db.session.execute(delete(model))
    db.session.commit()


def test_rows_numbered_from_zero_all_load(app_context):
    """The API numbers a batch's letters by their index, from 0."""
    from domain.letters.importing import import_rows

    report = import_rows(enumerate([row(number="1"), row(number="2")]), today=TODAY)

    assert (report.added, report.rejected) == (2, [])
