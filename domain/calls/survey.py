"""The post-call satisfaction survey: whether to ask, and the caller's score kept once."""

from __future__ import annotations

from models import Call

SCORES = ("1", "2", "3", "4", "5")
# <Dial> results that mean the agent really spoke with the caller.
ANSWERED_DIAL = {"completed", "answered"}


def survey_wanted(call: Call, *, enabled: bool, dial_status: str, caller_on_line: bool) -> bool:
    """Ask only a caller who is still on the line after talking with an agent, once per call."""
    return (
        enabled
        and caller_on_line
        and dial_status in ANSWERED_DIAL
        and call.answered_at is not None
        and call.survey_score is None
    )


def read_score(digits: str | None) -> int | None:
    """The score a key means, or None for anything but one key from 1 to 5."""
    text = (digits or "").strip()
    return int(text) if text in SCORES else None


def record_score(call: Call, score: int) -> bool:
    """Keep the first score given; a replayed or repeated answer changes nothing."""
    if call.survey_score is not None:
        return False
    call.survey_score = score
    return True
