"""Admins upload a records-office CSV; it loads as a job while the page shows its progress."""
from __future__ import annotations

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from agent_console import bp
from agent_console.access import admin_required
from domain.letters.import_jobs import import_progress, start_import
from domain.letters.importing import ImportFileError
from extensions import db
from models import ImportJob

RECENT = 20


@bp.get("/imports")
@admin_required
def imports():
    recent = db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(RECENT)).all()
    return render_template("console/imports.html", imports=[import_progress(job) for job in recent],
                           max_mb=current_app.config["IMPORT_MAX_BYTES"] // (1024 * 1024))


@bp.post("/imports")
@admin_required
def import_upload():
    upload = request.files.get("file")
    content = upload.read(current_app.config["IMPORT_MAX_BYTES"] + 1) if upload else b""
    if len(content) > current_app.config["IMPORT_MAX_BYTES"]:
        flash(_("The file is too large."), "error")
        return redirect(url_for("console.imports"))
    try:
        start_import(content, filename=upload.filename or "upload.csv", source="console",
                     requested_by=current_user.username, user_id=current_user.id)
    except ImportFileError as exc:
        flash(_("The file was not accepted: %(reason)s", reason=str(exc)), "error")
    return redirect(url_for("console.imports"))


@bp.get("/imports/<int:import_id>.json")
@admin_required
def import_status(import_id: int):
    """What the page polls while an import runs."""
    job = db.session.get(ImportJob, import_id) if import_id < 2**31 else None
    if job is None:
        return jsonify(error="not_found"), 404
    return jsonify(import_progress(job))
