"""Admins upload a records-office CSV; it loads as a job while the page shows its progress.

The upload is read from the request a chunk at a time and stored in the database as it
arrives (`start_import`): Werkzeug's form parser is not used for it, since it would spool the
whole file to the node's disk first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import select
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from agent_console import bp
from agent_console.access import admin_required
from domain.letters.import_jobs import UploadTooLarge, import_progress, start_import
from domain.letters.importing import ImportFileError
from extensions import csrf, db
from models import ImportJob

RECENT = 20
FORM_OVERHEAD = 64 * 1024  # the form's other fields and the multipart headers around the file
FIELD_MAX = 4096  # the CSRF token and any other small field before the file


@bp.get("/imports")
@admin_required
def imports():
    return imports_page()


def imports_page() -> str:
    recent = db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(RECENT)).all()
    return render_template(
        "console/imports.html",
        imports=[import_progress(job) for job in recent],
        max_mb=current_app.config["IMPORT_MAX_BYTES"] // (1024 * 1024),
    )


@bp.post("/imports")
@csrf.exempt  # checked below, from the form field read before the file
@admin_required
def import_upload():
    config = current_app.config
    try:
        if (request.content_length or 0) > config["IMPORT_MAX_BYTES"] + FORM_OVERHEAD:
            raise RequestEntityTooLarge()
        request.max_content_length = config["IMPORT_MAX_BYTES"] + FORM_OVERHEAD
        fields, filename, pieces = form_with_file(
            request.stream, request.content_type or "", config["IMPORT_CHUNK_BYTES"]
        )
        try:
            validate_csrf(fields.get("csrf_token"))
        except Exception as exc:  # noqa: BLE001  flask_wtf's ValidationError, the message says why
            raise CSRFError(str(exc)) from None
        start_import(
            pieces,
            filename=filename or "upload.csv",
            source="console",
            requested_by=current_user.username,
            user_id=current_user.id,
        )
    except (UploadTooLarge, RequestEntityTooLarge):
        flash(_("The file is too large."), "error")
        return imports_page(), 413
    except ImportFileError as exc:
        flash(_("The file was not accepted: %(reason)s", reason=str(exc)), "error")
    return redirect(url_for("console.imports"))


def form_with_file(stream: IO[bytes], content_type: str, read_size: int) -> tuple[dict[str, str], str, Iterator[bytes]]:
    """A multipart form's fields before its `file`, the file's name, and its bytes as they are
    read: `read_size` bytes from the request at a time, nothing held but the decoder's buffer."""
    mimetype, options = parse_options_header(content_type)
    if mimetype != "multipart/form-data" or not options.get("boundary"):
        raise BadRequest("the file must be sent as multipart/form-data")
    decoder = MultipartDecoder(options["boundary"].encode("latin-1"), max_form_memory_size=FIELD_MAX)
    events = decoded(stream, decoder, read_size)
    fields: dict[str, str] = {}
    name, value = None, bytearray()
    for event in events:
        if isinstance(event, File) and event.name == "file":
            return fields, event.filename, file_data(events)
        if isinstance(event, (Field, File)):
            name, value = event.name, bytearray()
        elif isinstance(event, Data) and name is not None:
            value += event.data
            if len(value) > FIELD_MAX:
                raise RequestEntityTooLarge()
            if not event.more_data:
                fields[name] = value.decode("utf-8", "replace")
                name = None
    return fields, "", iter(())


def decoded(stream: IO[bytes], decoder: MultipartDecoder, read_size: int) -> Iterator:
    """The decoder's events, fed from the stream a read at a time."""
    ended = False
    while True:
        event = decoder.next_event()
        if isinstance(event, NeedData):
            if ended:
                raise BadRequest("the form ended before its last part did")
            data = stream.read(read_size)
            ended = not data
            decoder.receive_data(data or None)
            continue
        yield event
        if isinstance(event, Epilogue):
            return


def file_data(events: Iterator) -> Iterator[bytes]:
    for event in events:
        if isinstance(event, Data):
            if event.data:
                yield event.data
            if not event.more_data:
                return
        elif isinstance(event, Epilogue):
            return


@bp.get("/imports/<int:import_id>.json")
@admin_required
def import_status(import_id: int):
    """What the page polls while an import runs."""
    job = db.session.get(ImportJob, import_id) if import_id < 2**31 else None
    if job is None:
        return jsonify(error="not_found"), 404
    return jsonify(import_progress(job))
