"""What the IVR says about a letter: status, holder and date only (minimum disclosure)."""

from __future__ import annotations

from models import Transaction
from voice_prompts import EntityName, Phrase, SpokenDate


def status_values(transaction: Transaction) -> dict:
    """The only fields of a letter that are ever spoken: never names, subjects or phones."""
    holder = transaction.holder
    return {
        "status": Phrase(f"status.{transaction.status.value}"),
        "holder": EntityName(holder.code, {"ar": holder.name_ar, "ckb": holder.name_ckb, "en": holder.name_en}),
        "date": SpokenDate(transaction.status_date),
    }


def speak_status(turn, transaction: Transaction) -> None:
    turn.say("status_found", **status_values(transaction))
