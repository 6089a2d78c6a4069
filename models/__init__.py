"""The records of the hotline, one module per aggregate."""

from models.audit import AuditEntry
from models.call import Call, CallbackRequest, CallbackStatus, CallEvent, CallLeg, CallLetter, LegRole, Outcome
from models.complaint import (
    CodePurpose,
    Complaint,
    ComplaintAttachment,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintEvent,
    ComplaintEventKind,
    ComplaintKind,
    ComplaintStatus,
    EmailMessage,
    EmailStatus,
    OneTimeCode,
    Verification,
)
from models.complaint_pending import PendingAttachment, PendingComplaint, TrackRequest
from models.dev_twilio import DevTwilioCall, DevTwilioRequest
from models.entity import Entity
from models.lookup_attempt import LookupAttempt, LookupKind
from models.presence import CallOffer, PresenceChange
from models.prompt_recording import PromptRecording
from models.recording import CallRecording
from models.records_office import ApiToken, ImportChunk, ImportJob, ImportKey, ImportRejection, ImportState
from models.sms import SmsKind, SmsMessage, SmsStatus, Subscription
from models.transaction import Direction, Status, Transaction, TransactionEvent
from models.user import EndpointKind, Presence, Role, User

__all__ = [
    "CallOffer",
    "PresenceChange",
    "PendingAttachment",
    "PendingComplaint",
    "TrackRequest",
    "CodePurpose",
    "Complaint",
    "ComplaintAttachment",
    "ComplaintCategory",
    "ComplaintChannel",
    "ComplaintEvent",
    "ComplaintEventKind",
    "ComplaintKind",
    "ComplaintStatus",
    "EmailMessage",
    "EmailStatus",
    "OneTimeCode",
    "Verification",
    "ApiToken",
    "ImportChunk",
    "ImportJob",
    "ImportKey",
    "ImportRejection",
    "ImportState",
    "SmsKind",
    "SmsMessage",
    "SmsStatus",
    "Subscription",
    "AuditEntry",
    "DevTwilioCall",
    "DevTwilioRequest",
    "EndpointKind",
    "Presence",
    "Role",
    "User",
    "Call",
    "CallbackRequest",
    "CallbackStatus",
    "CallEvent",
    "CallLeg",
    "CallRecording",
    "CallLetter",
    "LegRole",
    "Direction",
    "Entity",
    "LookupAttempt",
    "LookupKind",
    "PromptRecording",
    "Outcome",
    "Status",
    "Transaction",
    "TransactionEvent",
]
