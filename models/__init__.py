"""The records of the hotline, one module per aggregate."""
from models.call import Call, CallbackRequest, CallbackStatus, CallEvent, LookupAttempt, Outcome
from models.entity import Entity
from models.transaction import Direction, Status, Transaction, TransactionEvent

__all__ = [
    "Call",
    "CallbackRequest",
    "CallbackStatus",
    "CallEvent",
    "Direction",
    "Entity",
    "LookupAttempt",
    "Outcome",
    "Status",
    "Transaction",
    "TransactionEvent",
]
