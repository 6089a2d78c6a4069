"""Letters for the records-office API, as the CSV's fields (the token fixtures are in tests/api/conftest.py)."""

from __future__ import annotations


def letter(**changes) -> dict:
    fields = {
        "number": "5501",
        "date": "2024-03-15",
        "direction": "to_federal",
        "subject": "طلب تعيين",
        "sender": "وزارة الداخلية في إقليم كوردستان",
        "recipient": "وزارة المالية الاتحادية",
        "holder": "وزارة المالية الاتحادية",
        "status": "forwarded",
        "status_date": "2024-04-02",
        "phone": "07501234567",
    }
    fields.update(changes)
    return fields
