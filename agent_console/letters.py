"""An entity officer's letters: those their entity sent, received or holds; one letter's
history; the filtered list as CSV. Letters changed since the officer's last visit are marked.

The filters hold no personal data (status, direction, part, days), so they ride in the
query string; the list shows no citizen's number. A letter's page and the export are audited.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from flask import Response, abort, render_template, request, session, stream_with_context, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user

from agent_console import bp
from agent_console.access import client_address, officer_only, opened_from_this_site
from agent_console.call_log import flush, read_day_range, safe_cell
from agent_console.paging import page_cursor
from domain.audit import audit
from domain.clock import utcnow
from domain.letters.entity_letters import LetterFilters, Part, is_entitys, letter_rows, letters_page, part_of, visit
from domain.letters.history import transaction_history
from extensions import db
from models import Direction as LetterDirection, Entity, Status, Transaction

PAGE_SIZE = 50
MAX_FIELD = 64
FIELDS = ("status", "direction", "part", "start", "end")


def part_labels() -> dict[str, str]:
    return {"sent": _("Sent"), "received": _("Received by us"), "holds": _("Held by us")}


def read_letter_filters(args) -> tuple[LetterFilters, dict[str, str], dict[str, str]]:
    raw = {name: str(args.get(name, "") or "")[:MAX_FIELD].strip() for name in FIELDS}
    errors: dict[str, str] = {}
    values: dict = {}
    read_day_range(raw, values, errors)
    for name, kind, message in (
        ("status", Status, _("Choose a status from the list.")),
        ("direction", LetterDirection, _("Choose a direction from the list.")),
        ("part", Part, _("Choose from the list.")),
    ):
        if raw[name]:
            try:
                values[name] = kind(raw[name])
            except ValueError:
                errors[name] = message
    return LetterFilters(**values), raw, errors


@bp.get("/letters")
@officer_only
def letters():
    filters, raw, errors = read_letter_filters(request.args)
    page = None
    seen_before = None
    if not errors:
        cursor, direction, _cursor_ok = page_cursor()
        page = letters_page(current_user.entity_id, filters, size=PAGE_SIZE, cursor=cursor, direction=direction)
        if cursor is None:  # the first page is a visit; walking the pages is the same visit
            seen_before = visit(current_user)
            db.session.commit()
            # Marks on later pages compare with the visit before this one, kept in the session.
            session["letters_seen_before"] = seen_before.isoformat() if seen_before else ""
        else:
            kept = session.get("letters_seen_before") or ""
            try:
                seen_before = datetime.fromisoformat(kept) if kept else None
            except ValueError:
                seen_before = None
    return render_template(
        "console/letters.html",
        page=page,
        raw=raw,
        errors=errors,
        args={name: value for name, value in raw.items() if value},
        filtered=filters.any,
        seen_before=seen_before,
        entity=db.session.get(Entity, current_user.entity_id),
        statuses=list(Status),
        directions=list(LetterDirection),
        parts=part_labels(),
        part_of=part_of,
    ), (422 if errors else 200)


@bp.get("/letters/<int:transaction_id>")
@officer_only
@opened_from_this_site
def letter(transaction_id: int):
    """The agents' record page, for the officer's own entity's letters only (else 404)."""
    record = db.session.get(Transaction, transaction_id)
    if record is None or not is_entitys(record, current_user.entity_id):
        abort(404)
    audit(current_user, "view_transaction", target_type="transaction", target_id=record.id, address=client_address())
    db.session.commit()
    return render_template(
        "console/transaction.html",
        record=record,
        history=transaction_history(record.id),
        calls=None,
        back_url=url_for("console.letters"),
        back_label=_("Letters"),
    )


CSV_COLUMNS = (
    "number",
    "date",
    "direction",
    "subject",
    "sender",
    "recipient",
    "holder",
    "status",
    "status_date",
    "part",
)


def csv_lines(entity_id: int, filters: LetterFilters, language: str):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + flush(buffer)
    for n, record in enumerate(letter_rows(entity_id, filters), start=1):
        cells = [
            record.number,
            record.date.isoformat(),
            record.direction.value,
            record.subject,
            record.sender.name(language),
            record.recipient.name(language),
            record.holder.name(language),
            record.status.value,
            record.status_date.isoformat(),
            " ".join(part.value for part in part_of(record, entity_id)),
        ]
        writer.writerow([safe_cell(cell) for cell in cells])
        if n % 500 == 0:
            yield flush(buffer)
    yield flush(buffer)


@bp.post("/letters.csv")
@officer_only
def letters_export():
    """A POST with the CSRF token (a link from another site cannot make an officer export)."""
    filters, _raw, errors = read_letter_filters(request.form)
    if errors:
        abort(422)
    audit(current_user, "export", target_type="transaction", detail=filters.audit_detail(), address=client_address())
    db.session.commit()
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    lines = csv_lines(current_user.entity_id, filters, str(get_locale()))
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="letters-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )
