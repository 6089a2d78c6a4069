"""Writing the audit trail: one row per record view, search and export."""
from __future__ import annotations

from extensions import db
from models import AuditEntry


def audit(user, action: str, *, target_type: str | None = None, target_id=None,
          detail: dict | None = None, address: str | None = None) -> AuditEntry:
    """Record who did what; `detail` holds search terms or filters, never record content."""
    entry = AuditEntry(
        user_id=getattr(user, "id", None), action=action, target_type=target_type,
        target_id=None if target_id is None else str(target_id), detail=detail,
        address=(address or "")[:64] or None,
    )
    db.session.add(entry)
    return entry
