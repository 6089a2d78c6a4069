"""Following a complaint by its code, under the same guessing limits as a letter's lookup.

Who may hear a complaint's status: the holder of the mobile it was filed with. A caller
whose number is that mobile hears it at once; anyone else is sent a one-time code to that
mobile (never told whether the complaint exists or has a mobile) and hears it once they key
the code in. Every kind of miss (no such complaint, no mobile, a wrong, expired or spent
one-time code) is one failed lookup of kind "complaint", and is told in the same words.

The limits (domain/letters/throttle.py) count per call and per caller together with
letters, and per complaint code on its own. A voice webhook commits once, at the end of
its step (ivr/steps.py): nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from domain.complaints import codes
from domain.letters.throttle import FailedLookups, Limits, Throttle, failed_lookups, lock_lookups, record_attempt
from domain.one_time_codes import Check, CodeRefused, check_code, keyed, send_code
from extensions import db
from models import CodePurpose, Complaint, LookupAttempt, LookupKind

KIND = LookupKind.complaint
# Limits after which a miss ends the guessing of this call or caller.
LAST_TRY = {Throttle.per_call, Throttle.per_caller}


@dataclass(frozen=True)
class Tracking:
    """What came of a step: refused (`throttled`), shown (`complaint`), or a miss."""

    complaint: Complaint | None = None
    throttled: Throttle | None = None
    last_try: bool = False  # a miss that used up this call's or this caller's last try

    @property
    def shown(self) -> bool:
        return self.complaint is not None


def find_complaint(code: str) -> Complaint | None:
    """The complaint with this code, if its code is well formed and it still has its data."""
    if not codes.is_valid(code):
        return None
    return db.session.scalar(select(Complaint).where(Complaint.code == code, Complaint.purged_at.is_(None)))


def requester_key(caller: str | None, call_sid: str) -> str:
    """Who asks for one-time codes: the caller's number, or the call when it is withheld."""
    return keyed(f"ivr-caller:{caller}" if caller else f"ivr-call:{call_sid}")


def _counts(code: str, *, who: str, limits: Limits, call_sid: str | None, attempt_key: str) -> FailedLookups:
    lock_lookups(caller_key=who, number=code)
    return failed_lookups(limits, caller_key=who, call_sid=call_sid, number=code, kind=KIND, exclude_key=attempt_key)


def start_tracking(
    code: str,
    *,
    who: str,
    caller: str | None,
    limits: Limits,
    attempt_key: str,
    call_sid: str,
    language: str,
) -> Tracking:
    """The caller confirmed `code`: the status if they call from its mobile, else a code by SMS.

    When the complaint is not shown, a one-time code went to its mobile if it has one and
    the sending limits allowed it; the caller is asked for it either way.
    """
    counts = _counts(code, who=who, limits=limits, call_sid=call_sid, attempt_key=attempt_key)
    throttled = counts.throttle(limits)
    if throttled is not None:
        return Tracking(throttled=throttled)
    complaint = find_complaint(code)
    if complaint is not None and caller is not None and complaint.phone == caller:
        record_attempt(dedupe_key=attempt_key, caller_key=who, number=code, found=True, call_sid=call_sid, kind=KIND)
        return Tracking(complaint=complaint)
    if complaint is not None and complaint.phone:
        try:
            send_code(
                purpose=CodePurpose.track,
                channel="sms",
                destination=complaint.phone,
                subject=code,
                requester=requester_key(caller, call_sid),
                language=language,
                complaint_id=complaint.id,
            )
        except CodeRefused:
            pass  # told as any other miss when the caller keys something in
    return Tracking()


def earlier_answer(attempt_key: str, code: str) -> Tracking | None:
    """How a step already answered was judged (Twilio replayed it), or None."""
    attempt = db.session.scalar(select(LookupAttempt).where(LookupAttempt.dedupe_key == attempt_key))
    if attempt is None:
        return None
    complaint = find_complaint(code) if attempt.found else None
    return Tracking(complaint=complaint)


def check_tracking_code(
    code: str,
    one_time_code: str,
    *,
    who: str,
    limits: Limits,
    attempt_key: str,
    call_sid: str,
) -> Tracking:
    """The caller keyed in the one-time code for `code`: shown, or one more miss."""
    earlier = earlier_answer(attempt_key, code)
    if earlier is not None:
        return earlier
    counts = _counts(code, who=who, limits=limits, call_sid=call_sid, attempt_key=attempt_key)
    throttled = counts.throttle(limits)
    if throttled is not None:
        return Tracking(throttled=throttled)
    complaint = find_complaint(code)
    checked = Check.expired
    if complaint is not None and complaint.phone:
        checked = check_code(
            purpose=CodePurpose.track, destination=complaint.phone, subject=code, code=one_time_code, commit=False
        )
    shown = checked is Check.ok
    record_attempt(dedupe_key=attempt_key, caller_key=who, number=code, found=shown, call_sid=call_sid, kind=KIND)
    if shown:
        return Tracking(complaint=complaint)
    return Tracking(last_try=counts.plus_one().throttle(limits) in LAST_TRY)


def shown_on_call(code: str, call_sid: str) -> Complaint | None:
    """The complaint, if this call was already shown it (to hear it again without a new code)."""
    shown = db.session.scalar(
        select(LookupAttempt.id).where(
            LookupAttempt.call_sid == call_sid,
            LookupAttempt.kind == KIND.value,
            LookupAttempt.number == code,
            LookupAttempt.found.is_(True),
        )
    )
    return find_complaint(code) if shown is not None else None
