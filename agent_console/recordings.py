"""Supervisors play and delete a call's recordings from the call's timeline page.

The audio is fetched from Twilio's REST API with the app's credentials and streamed through
the app (the browser's Range passed on), so no Twilio URL is ever in a page; each play and
each deletion is audited.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from agent_console import bp
from agent_console.access import OTHER_SITES, client_address, supervisor_required
from domain.audit import audit
from domain.calls.recordings import MediaUnavailable, delete_recording, fetch_media, recording_of
from extensions import db
from models import Call


def the_recording(call_id: int, recording_id: int):
    call = db.session.get(Call, call_id)
    recording = recording_of(call, recording_id) if call is not None else None
    if recording is None:
        abort(404)
    return call, recording


def first_bytes(byte_range: str | None) -> bool:
    """A play starts with no Range or one from the first byte; seeking asks for later bytes."""
    return not byte_range or byte_range.replace(" ", "").startswith("bytes=0-")


@bp.get("/calls/<int:call_id>/recordings/<int:recording_id>.mp3")
@supervisor_required
def recording_audio(call_id: int, recording_id: int):
    if request.headers.get("Sec-Fetch-Site") in OTHER_SITES:
        abort(403)  # another site embedding the audio
    call, recording = the_recording(call_id, recording_id)
    byte_range = request.headers.get("Range")
    try:
        media = fetch_media(recording, byte_range)
    except MediaUnavailable:
        return Response(_("The recording cannot be fetched from Twilio now."), status=502, mimetype="text/plain")
    if first_bytes(byte_range):
        audit(
            current_user,
            "play_recording",
            target_type="call",
            target_id=call.id,
            detail={"recording": recording.id},
            address=client_address(),
        )
        db.session.commit()
    headers = {**media.headers, "Cache-Control": "no-store", "Content-Disposition": "inline"}
    return Response(media.chunks, status=media.status, headers=headers)  # needs no request context


@bp.post("/calls/<int:call_id>/recordings/<int:recording_id>/delete")
@supervisor_required
def recording_delete(call_id: int, recording_id: int):
    call, recording = the_recording(call_id, recording_id)
    if delete_recording(recording, current_user, address=client_address()):
        flash(_("The recording was deleted."), "success")
    else:
        flash(_("Twilio did not delete the recording; nothing changed. Try again later."), "error")
    return redirect(url_for("console.call_timeline", call_id=call.id), code=303)
