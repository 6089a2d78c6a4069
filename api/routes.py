"""The API's views: bearer-token checked, JSON in and out, errors that name the field at fault."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from functools import wraps

from flask import current_app, g, jsonify, request, url_for

from api import bp
from api.errors import ApiError, api_error
from api.openapi import openapi_document
from domain.clock import local_today, utcnow
from domain.letters.import_jobs import EMPTY_FILE, UploadTooLarge, import_progress, start_import
from domain.letters.importing import HEADER, ImportFileError, import_rows, validate_row
from domain.letters.lookup import ascii_digits, check_number, find_transactions
from domain.sms import dispatch_outbox, notify_subscribers
from domain.staff.api_tokens import token_for
from extensions import db
from models import ImportJob, Transaction

log = logging.getLogger(__name__)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
SCALARS = (str, int, float, type(None))
JSON_ROW_BYTES = 4096  # a generous size for one letter as JSON, to bound a batch's body


bp.register_error_handler(ApiError, api_error)


def unauthorised(message: str):
    response = jsonify(error="unauthorized", message=message)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="records-office"'
    return response


def token_required(view):
    @wraps(view)
    def checked(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return unauthorised("send the API token as 'Authorization: Bearer TOKEN'")
        token = token_for(presented.strip())
        if token is None:
            return unauthorised("the token is unknown or revoked")
        g.api_token = token
        now = utcnow()
        if token.last_used_at is None or now - token.last_used_at > timedelta(hours=1):
            token.last_used_at = now  # hourly is enough to tell live tokens from forgotten ones
            db.session.commit()
        return view(*args, **kwargs)

    return checked


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


# --- letters in --------------------------------------------------------------------


def read_json_body():
    config = current_app.config
    request.max_content_length = config["API_BATCH_MAX"] * JSON_ROW_BYTES
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "send the letters as application/json")
    try:
        return current_app.json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, UnicodeDecodeError):  # RecursionError too: the app's JSON turns it into a ValueError
        raise ApiError(400, "bad_json", "the body is not valid JSON") from None


def rows_of(body) -> list:
    if isinstance(body, dict):
        return [body]
    if not isinstance(body, list):
        raise ApiError(400, "bad_body", "send one letter as a JSON object or several as an array")
    if not body:
        raise ApiError(400, "empty_batch", "the array holds no letter")
    limit = current_app.config["API_BATCH_MAX"]
    if len(body) > limit:
        raise ApiError(413, "batch_too_large", f"at most {limit} letters in one request; split the batch")
    return body


def row_errors(index: int | None, raw, today: date, region: str) -> list[dict]:
    """Every fault of one letter, each naming its field (and its index in a batch)."""
    at = {} if index is None else {"index": index}
    if not isinstance(raw, dict):
        return [{**at, "field": None, "message": "a letter is a JSON object"}]
    faults = [
        {**at, "field": name, "message": f"{name} is not a field; the fields are {', '.join(HEADER)}"}
        for name in raw
        if name not in HEADER
    ]
    faults += [
        {**at, "field": name, "message": f"{name} must be a string"}
        for name, value in raw.items()
        if name in HEADER and not isinstance(value, SCALARS)
    ]
    faults += [
        {**at, "field": name, "message": f"{name} must not hold a NUL character"}
        for name, value in raw.items()
        if name in HEADER and isinstance(value, str) and "\x00" in value
    ]
    if faults:
        return faults
    checked = validate_row(raw, today=today, phone_region=region)
    if isinstance(checked, str):
        return [{**at, "field": fault_field(part), "message": part} for part in checked.split("; ")]
    return []


def fault_field(message: str) -> str | None:
    first = message.split(" ", 1)[0]
    return first if first in HEADER else None


def duplicate_errors(rows: list, today: date, region: str) -> list[dict]:
    seen: dict = {}
    faults = []
    for index, raw in enumerate(rows):
        row = validate_row(raw, today=today, phone_region=region)
        if row.key in seen:
            faults.append(
                {
                    "index": index,
                    "field": "number",
                    "message": f"same number, date and direction as index {seen[row.key]}",
                }
            )
        seen.setdefault(row.key, index)
    return faults


@bp.post("/transactions")
@token_required
def upsert_transactions():
    """Create or update one letter (an object) or a batch (an array): all or nothing."""
    body = read_json_body()
    single = isinstance(body, dict)
    rows = rows_of(body)
    config = current_app.config
    today, region = local_today(config["TIMEZONE"]), config["DEFAULT_PHONE_REGION"]
    faults = [f for i, raw in enumerate(rows) for f in row_errors(None if single else i, raw, today, region)]
    if not faults:
        faults = duplicate_errors(rows, today, region)
    if faults:
        first = faults[0]
        raise ApiError(
            422,
            "invalid_letter",
            first["message"],
            field=first["field"],
            **({} if single else {"index": first["index"]}),
            errors=faults[:100],
        )
    report = import_rows(enumerate(rows), today=today, phone_region=region, source="api")
    notified = notify_subscribers(report.changed_ids)
    db.session.commit()
    dispatch_outbox()
    return jsonify(added=report.added, updated=report.updated, unchanged=report.unchanged, notifications=notified)


# --- one letter out ----------------------------------------------------------------


def letter_json(letter: Transaction) -> dict:
    """The letter in the CSV's own fields: the records office's data, given back to it."""
    return {
        "number": letter.number,
        "date": letter.date.isoformat(),
        "direction": letter.direction.value,
        "subject": letter.subject,
        "sender": letter.sender.name_ar,
        "recipient": letter.recipient.name_ar,
        "holder": letter.holder.name_ar,
        "status": letter.status.value,
        "status_date": letter.status_date.isoformat(),
        "phone": letter.citizen_phone,
    }


def query_date(name: str) -> date:
    raw = ascii_digits(request.args.get(name, "").strip())
    if not raw:
        raise ApiError(400, "missing_parameter", f"{name} is required (YYYY-MM-DD)", field=name)
    try:
        if not ISO_DATE.fullmatch(raw):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "bad_parameter", f"{name} must be a date written YYYY-MM-DD", field=name) from None


@bp.get("/transactions")
@token_required
def get_transactions():
    """The letter(s) with this number and date: one, or one per direction."""
    raw_number = ascii_digits(request.args.get("number", "").strip())
    if not raw_number:
        raise ApiError(400, "missing_parameter", "number is required (1 to 12 digits)", field="number")
    number = check_number(raw_number)
    if not number.ok:
        raise ApiError(400, "bad_parameter", "number must be 1 to 12 digits 0-9", field="number")
    on = query_date("date")
    letters = find_transactions(number.value, on)
    if not letters:
        raise ApiError(404, "not_found", "no letter has this number and date")
    return jsonify(transactions=[letter_json(letter) for letter in letters])


# --- CSV imports as jobs -----------------------------------------------------------


@bp.post("/imports")
@token_required
def create_import():
    """The body is the CSV, read a chunk at a time into the database (never held whole)."""
    config = current_app.config
    limit = config["IMPORT_MAX_BYTES"]
    if (request.content_length or 0) > limit:
        raise ApiError(413, "file_too_large", str(UploadTooLarge(limit)))
    request.max_content_length = limit  # this request's own limit (a chunked body is cut there)
    body = request.stream
    pieces = iter(lambda: body.read(config["IMPORT_CHUNK_BYTES"]), b"")
    try:
        job = start_import(
            pieces, filename=request.args.get("filename", "api.csv"), source="api", requested_by=g.api_token.name
        )
    except UploadTooLarge as exc:
        raise ApiError(413, "file_too_large", str(exc)) from None
    except ImportFileError as exc:
        if str(exc) == EMPTY_FILE:
            raise ApiError(400, "empty_body", "send the CSV file as the request body (text/csv)") from None
        raise ApiError(400, "bad_csv", str(exc)) from None
    response = jsonify(import_progress(job))
    response.status_code = 202
    response.headers["Location"] = url_for("api.show_import", import_id=job.id)
    return response


@bp.get("/imports/<int:import_id>")
@token_required
def show_import(import_id: int):
    job = db.session.get(ImportJob, import_id)  # the route's <int:> never passes an id past the columns' range
    if job is None:
        raise ApiError(404, "not_found", "no import has this id")
    return jsonify(import_progress(job))
