"""The prompt studio: admins record or upload each clip the IVR plays, listen, approve, restore.

An upload is converted in its own request (`domain.prompts.audio`: a few words take well under
a second of ffmpeg), so the admin sees at once whether the take was kept or why it was
refused. The route raises its request's size limit to PROMPT_UPLOAD_MAX_BYTES, before the
form is read; its CSRF token is therefore checked here, not by CSRFProtect (which would read
the form under the app's smaller limit first).
"""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_decimal, gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from agent_console import bp
from agent_console.access import admin_required, client_address
from agent_console.forms import ActionForm
from domain.audit import audit
from domain.prompts.audio import ACCEPTED_SUFFIXES, ClipRefused
from domain.prompts.studio import (
    DYNAMIC_GROUPS,
    STATES,
    STUDIO_LANGUAGES,
    UnknownClip,
    approve_take,
    check_clip,
    clip_prompt,
    clip_rows,
    coverage,
    preview,
    prompt_keys,
    restore_take,
    save_take,
    takes_of,
)
from extensions import csrf, db
from models import PromptRecording

FORM_OVERHEAD = 64 * 1024
MAX_ARG = 160


def refusal(refused: ClipRefused) -> str:
    limit = current_app.config["PROMPT_CLIP_MAX_SECONDS"]
    return {
        "empty": _("The file is empty."),
        "not_audio": _("This is not an audio file that can be read (use wav, mp3, ogg, webm or m4a)."),
        "silent": _("The take is silent: no speech was heard. Check the microphone and record again."),
        "clipped": _(
            "The take is clipped (too loud, %(percent)s%% of it at full scale): record again further from "
            "the microphone or with a lower input level.",
            percent=format_decimal(refused.detail.get("percent", 0)),
        ),
        "too_long": _("The take is too long: at most %(seconds)d seconds of speech.", seconds=limit),
        "too_slow": _("The file took too long to convert; send a shorter one."),
        "no_converter": _("Audio conversion is not installed on this server (ffmpeg)."),
    }.get(refused.code, _("The take was refused."))


def studio_language() -> str:
    language = request.args.get("language", "ckb")
    return language if language in STUDIO_LANGUAGES else "ckb"


@bp.get("/studio")
@admin_required
def studio():
    language = studio_language()
    prompt = request.args.get("prompt", "")[:MAX_ARG]
    state = request.args.get("state", "")
    state = state if state in STATES else ""
    prompts = prompt_keys(language)
    if prompt not in prompts and prompt not in DYNAMIC_GROUPS:
        prompt = ""
    rows = clip_rows(language, prompt, state)
    pieces = preview(language, prompt) if prompt in prompts else []
    return render_template(
        "console/studio.html",
        language=language,
        languages=STUDIO_LANGUAGES,
        prompt=prompt,
        state=state,
        states=STATES,
        prompts=prompts,
        groups=DYNAMIC_GROUPS,
        rows=rows,
        coverage=coverage(language),
        pieces=pieces,
        sequence=[url_for("console.studio_take_audio", take_id=p.take_id) for p in pieces if p.take_id],
    )


def clip_or_404(language: str, name: str) -> str:
    try:
        if len(name) > MAX_ARG:
            raise UnknownClip(name)
        return check_clip(language, name)
    except UnknownClip:
        abort(404)


@bp.get("/studio/<language>/<name>")
@admin_required
def studio_clip(language: str, name: str):
    script = clip_or_404(language, name)
    return render_template(
        "console/studio_clip.html",
        language=language,
        name=name,
        script=script,
        prompt=clip_prompt(name, language),
        takes=takes_of(language, name),
        action_form=ActionForm(),
        max_mb=current_app.config["PROMPT_UPLOAD_MAX_BYTES"] // (1024 * 1024),
        max_seconds=current_app.config["PROMPT_CLIP_MAX_SECONDS"],
        accept=",".join(ACCEPTED_SUFFIXES) + ",audio/*",
    )


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def upload_answer(language: str, name: str, error: str | None, status: int):
    if wants_json():
        if error:
            return jsonify(error=error), status
        return jsonify(url=url_for("console.studio_clip", language=language, name=name)), status
    if error:
        flash(error, "error")
    return redirect(url_for("console.studio_clip", language=language, name=name), 303)


@bp.post("/studio/<language>/<name>/takes")
@csrf.exempt  # checked below, once the request's own size limit is set
@admin_required
def studio_upload(language: str, name: str):
    limit = current_app.config["PROMPT_UPLOAD_MAX_BYTES"] + FORM_OVERHEAD
    try:
        if (request.content_length or 0) > limit:
            raise RequestEntityTooLarge()
        request.max_content_length = limit
        try:
            validate_csrf(request.form.get("csrf_token") or request.headers.get("X-CSRFToken"))
        except Exception as exc:  # noqa: BLE001  flask_wtf's ValidationError, the message says why
            raise CSRFError(str(exc)) from None
        clip_or_404(language, name)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            return upload_answer(language, name, _("Choose a file or record a take."), 422)
        take = save_take(language, name, upload.read(limit), upload.filename, current_user)
    except RequestEntityTooLarge:
        return upload_answer(language, name, _("The file is too large."), 413)
    except ClipRefused as refused:
        db.session.rollback()
        return upload_answer(language, name, refusal(refused), 422)
    except BadRequest as bad:
        if isinstance(bad, CSRFError):
            raise
        return upload_answer(language, name, _("The upload was not readable; try again."), 400)
    audit(
        current_user,
        "prompt_take",
        target_type="prompt_recording",
        target_id=take.id,
        detail={"language": language, "clip": name},
        address=client_address(),
    )
    db.session.commit()
    flash(_("Take kept. Listen to it, then approve it."), "success")
    return upload_answer(language, name, None, 201 if wants_json() else 303)


def take_action(language: str, name: str, take_id: int, action) -> PromptRecording:
    if not ActionForm().validate_on_submit():
        abort(400)
    clip_or_404(language, name)
    try:
        return action(language, name, take_id)
    except UnknownClip:
        abort(404)


@bp.post("/studio/<language>/<name>/takes/<int:take_id>/approve")
@admin_required
def studio_approve(language: str, name: str, take_id: int):
    take = take_action(language, name, take_id, lambda *a: approve_take(*a, by=current_user))
    audit(
        current_user,
        "prompt_approve",
        target_type="prompt_recording",
        target_id=take.id,
        detail={"language": language, "clip": name},
        address=client_address(),
    )
    db.session.commit()
    flash(_("Approved: callers hear this take within seconds."), "success")
    return redirect(url_for("console.studio_clip", language=language, name=name), 303)


@bp.post("/studio/<language>/<name>/takes/<int:take_id>/restore")
@admin_required
def studio_restore(language: str, name: str, take_id: int):
    take_action(language, name, take_id, restore_take)
    flash(_("This earlier take is the current one again; approve it to put it live."), "success")
    return redirect(url_for("console.studio_clip", language=language, name=name), 303)


@bp.get("/studio/takes/<int:take_id>.mp3")
@admin_required
def studio_take_audio(take_id: int):
    """Any take, to listen to in the studio (the IVR plays approved ones from /ivr/audio)."""
    take = db.session.get(PromptRecording, take_id) if take_id < 2**31 else None
    if take is None:
        abort(404)
    response = current_app.response_class(take.audio, mimetype=take.mimetype)
    response.set_etag(take.sha256)
    response.headers["Cache-Control"] = "private, max-age=86400"  # a take's audio never changes
    return response.make_conditional(request)
