"""Searching letters (by number and date, or by phone) and showing one letter's record.

Every search and every record view writes an audit entry. Search terms go only to the
audit trail (POST bodies, not URLs, so they stay out of access logs); nothing is logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from agent_console import bp
from agent_console.access import agent_required, client_address, opened_from_this_site
from agent_console.forms import SearchForm
from domain.audit import audit
from domain.clock import local_today
from domain.letters.history import recent_calls_about, recent_calls_from, transaction_history, transactions_for_phone
from domain.letters.lookup import ascii_digits, check_number, check_typed_date, find_transactions
from domain.phones import national_format, normalize_phone
from extensions import db
from models import Call, Role, Transaction

MAX_AUDITED_TERM = 64


@dataclass
class Search:
    """What an agent asked for, checked: terms to audit, errors per field, and what matched."""

    by: str
    terms: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    transactions: list = field(default_factory=list)
    calls: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def number_error(code: str) -> str:
    return {
        "empty": _("Enter the transaction number."),
        "not_digits": _("A transaction number has digits only."),
        "too_long": _("A transaction number has at most 12 digits."),
    }.get(code, _("This is not a transaction number."))


def date_error(code: str) -> str:
    return {
        "empty": _("Enter the date of the letter."),
        "wrong_length": _("Write the date as DD/MM/YYYY, for example 15/03/2024."),
        "not_a_date": _("This day does not exist in the calendar."),
        "in_future": _("This date is in the future."),
        "too_old": _("Letters dated before 2000 are not kept here."),
    }.get(code, _("This is not a date."))


def search_by_transaction(form: SearchForm) -> Search:
    search = Search(by="transaction")
    number_text = ascii_digits(form.number.data or "")
    date_text = form.date.data or ""
    search.terms = {"number": number_text.strip()[:MAX_AUDITED_TERM], "date": date_text.strip()[:MAX_AUDITED_TERM]}
    number = check_number(number_text)
    on = check_typed_date(date_text, local_today(current_app.config["TIMEZONE"]))
    if not number.ok:
        search.errors["number"] = number_error(number.error)
    if not on.ok:
        search.errors["date"] = date_error(on.error)
    if search.ok:
        search.terms = {"number": number.value, "date": on.value.isoformat()}
        search.transactions = find_transactions(number.value, on.value)
    return search


def search_by_phone(form: SearchForm) -> Search:
    search = Search(by="phone")
    raw = ascii_digits(form.phone.data or "").strip()
    search.terms = {"phone": raw[:MAX_AUDITED_TERM]}
    e164 = normalize_phone(raw, current_app.config["DEFAULT_PHONE_REGION"]) if raw else None
    if not raw:
        search.errors["phone"] = _("Enter a phone number.")
    elif e164 is None:
        search.errors["phone"] = _("This is not a phone number. Write it as 0750 123 4567 or +964 750 123 4567.")
    else:
        search.terms = {"phone": e164}
        search.transactions = transactions_for_phone(e164)
        search.calls = recent_calls_from(e164)
    return search


def call_to_attach_to() -> Call | None:
    """The call a search was started from (`call` in the query or the form), when the user may
    attach letters to it: their own call, or any call for a supervisor. Anything else: None."""
    raw = request.values.get("call", "")
    if not raw.isdigit() or len(raw) > 12:
        return None
    call = db.session.get(Call, int(raw))
    if call is None or (call.agent_id != current_user.id and not current_user.has_role(Role.supervisor)):
        return None
    return call


def prefill_from(form: SearchForm, call: Call) -> None:
    """What the caller keyed in on the IVR, and their number, ready to search."""
    form.number.data = call.asked_number or ""
    form.date.data = call.asked_date.strftime("%d/%m/%Y") if call.asked_date else ""
    form.phone.data = national_format(call.caller, current_app.config["DEFAULT_PHONE_REGION"]) if call.caller else ""


@bp.route("/search", methods=["GET", "POST"])
@agent_required
def search():
    form = SearchForm()
    call = call_to_attach_to()
    if not form.validate_on_submit():  # a GET (a POST without its CSRF token is refused before)
        if call is not None and request.method == "GET":
            prefill_from(form, call)
        return render_template("console/search.html", form=form, search=None, attach_call=call)
    found = search_by_phone(form) if form.by.data == "phone" else search_by_transaction(form)
    audit(current_user, "search", target_type="transaction", detail=audit_detail(found), address=client_address())
    db.session.commit()
    if found.ok and found.by == "transaction" and len(found.transactions) == 1:
        # The usual case: the caller's letter, one click less.
        return redirect(
            url_for("console.transaction", transaction_id=found.transactions[0].id, call=call.id if call else None)
        )
    return render_template("console/search.html", form=form, search=found, attach_call=call), 200 if found.ok else 422


def audit_detail(found: Search) -> dict:
    """The terms and how many letters matched: never the letters' content."""
    detail = {"by": found.by, **found.terms, "matches": len(found.transactions)}
    if found.errors:
        detail["refused"] = sorted(found.errors)
    return detail


@bp.get("/transactions/<int:transaction_id>")
@agent_required
@opened_from_this_site
def transaction(transaction_id: int):
    record = db.session.get(Transaction, transaction_id)
    if record is None:
        abort(404)
    audit(current_user, "view_transaction", target_type="transaction", target_id=record.id, address=client_address())
    db.session.commit()
    return render_template(
        "console/transaction.html",
        record=record,
        history=transaction_history(record.id),
        calls=recent_calls_about(record.id),
        attach_call=call_to_attach_to(),
    )
