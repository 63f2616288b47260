"""Sales order (tblestimates) actions: accept, decline, convert to invoice; the client's accept /
decline; the daily expiry sweep.

Statuses (EstimateStatus): 1 Draft, 2 Sent, 3 Declined, 4 Accepted/Invoiced, 5 Expired.
Sending (Draft → Sent) belongs to the sending actions. Once invoiced a sales order is closed.
"""
from __future__ import annotations

from datetime import date, datetime

from crm.core import options
from crm.core.extensions import db
from crm.core.numbering import assign, shown
from crm.core.registry import ActionError, action
from crm.sales.actions import manual_status
from crm.sales.actions.acceptance import log_client, portal_transaction, record_acceptance, refuse_if_expired
from crm.sales.actions.conversions import invoice_from
from crm.sales.actions.sales_activity import log_sales_activity
from crm.sales.models.clients import Client
from crm.sales.models.documents import Estimate, EstimateStatus

S = EstimateStatus


def _name(e: Estimate) -> str:
    return f"Sales order {shown(e)}"


def _invoiced(e: Estimate) -> str | None:
    return f"{_name(e)} was invoiced ({shown(e.invoice)}); it can no longer change." if e.invoiceid else None


def _status_may_change(e: Estimate, to: EstimateStatus) -> str | None:
    return manual_status.refusal(e, _name(e), _invoiced(e), to)


def _set_status(e: Estimate, actor, to: EstimateStatus) -> str:
    return manual_status.set_status(e, actor, _name(e), to)


@action(Estimate, "accept", "Mark as accepted", precondition=lambda e: _status_may_change(e, S.ACCEPTED),
        icon="fa-check")
def accept(e: Estimate, actor):
    return _set_status(e, actor, S.ACCEPTED)  # the stock it reserves, if any, is said too (estimate.accepted)


@action(Estimate, "decline", "Mark as declined", precondition=lambda e: _status_may_change(e, S.DECLINED),
        destructive=True, confirm="Mark this sales order as declined?", icon="fa-times")
def decline(e: Estimate, actor):
    return _set_status(e, actor, S.DECLINED)


def _convertible(e: Estimate) -> str | None:
    if e.invoiceid:
        return f"{_name(e)} was already converted to invoice {shown(e.invoice)}."
    if e.status in (S.DECLINED.value, S.EXPIRED.value):
        return f"{_name(e)} is {S.label_of(e.status)}; mark it accepted before invoicing it."
    return None


def _to_invoice(e: Estimate, actor) -> str:
    assign(e)  # a draft sales order takes its number as it leaves draft
    client = db.session.get(Client, e.clientid)
    invoice = invoice_from(e, client, actor)
    e.invoice, e.invoiced_date, e.status = invoice, datetime.utcnow(), S.INVOICED.value
    number = shown(invoice)
    log_sales_activity(e, actor, f"Converted to invoice {number}")
    log_sales_activity(invoice, actor, f"Created from sales order {shown(e)}")
    return f"Invoice {number} created from sales order {shown(e)}"


@action(Estimate, "convert_to_invoice", "Convert to invoice", precondition=_convertible, icon="fa-file-text")
def convert_to_invoice(e: Estimate, actor):
    return _to_invoice(e, actor)


# --- the client, from the portal --------------------------------------------------------------

def _open_to_client(e: Estimate) -> None:
    if e.status == S.ACCEPTED.value:
        raise ActionError("This sales order was already accepted.")
    if e.status == S.DECLINED.value:
        raise ActionError(f"This sales order was declined; ask {options.get('companyname')} for a new one.")
    if e.status != S.SENT.value:
        raise ActionError("This sales order is not open for acceptance.")
    refuse_if_expired(e, e.expirydate, "sales order")


@portal_transaction
def client_accept(e: Estimate, firstname: str, lastname: str, email: str, signature: str | None, ip: str | None):
    """The client accepts (and signs) from the portal. Returns the invoice made from it when
    ``estimate_auto_convert_to_invoice_on_client_accept`` is on (the default), else None."""
    _open_to_client(e)
    record_acceptance(e, firstname, lastname, email, signature, ip)
    e.status = S.ACCEPTED.value
    log_client(e, shown(e), "accepted", f"{firstname} {lastname}", ip)
    if options.get("estimate_auto_convert_to_invoice_on_client_accept"):
        _to_invoice(e, None)
        return e.invoice
    return None


@portal_transaction
def client_decline(e: Estimate, firstname: str | None = None, lastname: str | None = None,
                   email: str | None = None, ip: str | None = None):
    _open_to_client(e)
    e.status = S.DECLINED.value
    log_client(e, shown(e), "declined", f"{firstname or ''} {lastname or ''}", ip)


# --- daily sweep ------------------------------------------------------------------------------

def expire_sent(today: date | None = None) -> int:
    """Sent sales orders past their expiry date become Expired (5). Commits; returns how many."""
    today = today or date.today()
    due = (db.session.query(Estimate)
           .filter(Estimate.status == S.SENT.value, Estimate.expirydate < today).with_for_update().all())
    for e in due:
        e.status = S.EXPIRED.value
        log_sales_activity(e, None, f"Expired (valid until {e.expirydate:%d.%m.%Y})")
    db.session.commit()
    return len(due)
