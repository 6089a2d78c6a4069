"""What a citizen is told about their complaint, by SMS and e-mail, through the outboxes.

Each notice carries the complaint code, the status and the entity (never the description,
a response's text or anyone's name) and where to follow it. It goes where the complainant
was verified: the mobile (an SMS code, or the number of the call an agent took it on) or
the e-mail address. The idempotency key is the complaint event's id: a notice is queued
once per event, whatever is replayed. The caller commits, then calls `dispatch()`.
"""

from __future__ import annotations

from flask import current_app

from domain.complaints.codes import spaced
from domain.email import dispatch_email_outbox, queue_email
from domain.languages import language_or_default
from domain.sms import ELLIPSIS, MAX_SEGMENTS, dispatch_outbox, queue_sms, segments, sms_catalog
from models import Complaint, ComplaintEvent, ComplaintEventKind, ComplaintStatus, SmsKind, Verification

# Events the citizen hears about, and the message each is told with.
NOTICE_FOR = {
    ComplaintEventKind.submitted: "submitted",
    ComplaintEventKind.status: "status",
    ComplaintEventKind.info_request: "info_request",
    ComplaintEventKind.response: "response",
    ComplaintEventKind.transfer: "status",
    ComplaintEventKind.appeal: "status",
}
# Status changes that are told by another event already (an information request says it).
SILENT_STATUSES = frozenset({ComplaintStatus.awaiting_citizen, ComplaintStatus.routed})


def status_words(status: ComplaintStatus, language: str) -> str:
    """A status in the citizen's words (the web pages, SMS and e-mail share them)."""
    return sms_catalog(language_or_default(language))["complaint_status"][status.value]


def track_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"] + "/complaints/track"


def fit(template: str, values: dict, shorten: str) -> str:
    """The text within MAX_SEGMENTS SMS parts, shortening `values[shorten]` (an entity's name)."""
    values = dict(values)
    body = template.format(**values)
    while segments(body) > MAX_SEGMENTS and len(values[shorten]) > 1:
        values[shorten] = values[shorten][:-2].rstrip() + ELLIPSIS
        body = template.format(**values)
    return body


def notice_text(complaint: Complaint, message: str, language: str) -> str:
    texts = sms_catalog(language)
    values = {
        "code": spaced(complaint.code),
        "status": status_words(complaint.status, language),
        "entity": complaint.entity.name(language),
        "url": track_url(),
    }
    return fit(texts["complaint"][message], values, "entity")


def notify(complaint: Complaint, event: ComplaintEvent) -> None:
    """Queue the notice for this event, if it is one the citizen is told of; the caller commits."""
    message = NOTICE_FOR.get(event.kind)
    if message is None or complaint.purged_at is not None:
        return
    if event.kind is ComplaintEventKind.status and event.to_status in SILENT_STATUSES:
        return
    language = language_or_default(complaint.language)
    body = notice_text(complaint, message, language)
    key = f"complaint-event-{event.id}"
    if complaint.verification is Verification.email:
        if complaint.email:
            subject = sms_catalog(language)["complaint"]["subject"].format(code=spaced(complaint.code))
            queue_email(
                to=complaint.email,
                subject=subject,
                body=body,
                language=language,
                key=key,
                complaint_id=complaint.id,
            )
    elif complaint.phone:
        queue_sms(
            to=complaint.phone,
            kind=SmsKind.complaint,
            language=language,
            key=key,
            body=body,
            complaint_id=complaint.id,
        )


def dispatch() -> None:
    """After the commit: hand the rows this request made to their queues (never raises)."""
    dispatch_outbox()
    dispatch_email_outbox()
