"""Advance payments: money a client pays before there is an invoice, kept on the client's account
(tblclient_advance_payments) and applied to invoices later.

Applying records ordinary invoice payments (crm.sales.actions.payments.add_payment) linked back to the
advance, oldest advance first, so the invoice status rule stays in crm.sales.actions.invoices. A client's
available credit in a currency = its advances in that currency − the payments applied from them.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import g, has_request_context
from sqlalchemy import func, select
from wtforms import DateField, DecimalField, Form, SelectField
from wtforms.validators import Optional

from crm.catalog.models import Currency
from crm.core import events, options
from crm.core.extensions import db
from crm.core.models.base import money
from crm.core.numbering import shown
from crm.core.registry import ActionError, action
from crm.core.resources import api_value, page_loader
from crm.sales.actions.invoices import invoice_name
from crm.sales.actions.payments import PaymentForm, _positive, add_payment, left_to_pay
from crm.sales.invoice_status import CANCELLED, PAID
from crm.sales.models.clients import Client
from crm.sales.models.documents import Invoice, InvoicePayment, InvoiceStatus
from crm.sales.models.payments import ClientAdvancePayment

ZERO = Decimal("0.00")

events.register(ClientAdvancePayment, created="advance_payment.recorded",
                described={"advance_payment.recorded": "An advance payment was recorded on a client's account"})
_CACHE = "crm_advance_credit"


# --- what is available ------------------------------------------------------------------------

def default_currency_id() -> int | None:
    """The base currency's id (kept for the request: grid rows without a currency ask for it)."""
    if has_request_context() and "crm_default_currency" in g:
        return g.crm_default_currency
    row = (db.session.query(Currency).filter(Currency.isdefault.is_(True)).order_by(Currency.id).first()
           or db.session.query(Currency).filter_by(name=options.get("base_currency")).first())
    if has_request_context():
        g.crm_default_currency = row.id if row else None
    return row.id if row else None


def currency_of_invoice(invoice) -> int | None:
    return invoice.currency or default_currency_id()


def _applied_by_advance(advance_ids) -> dict[int, Decimal]:
    if not advance_ids:
        return {}
    rows = (db.session.query(InvoicePayment.advance_payment_id, func.sum(InvoicePayment.amount))
            .filter(InvoicePayment.advance_payment_id.in_(list(advance_ids)))
            .group_by(InvoicePayment.advance_payment_id))
    return {aid: money(total) for aid, total in rows}


def _credit_of(client_ids) -> dict[tuple[int, int], Decimal]:
    """{(client id, currency id): available credit} of ``client_ids`` (only those with credit left):
    one grouped query over those clients' advances (indexed by client) and the payments applied
    from them (indexed by advance), whatever the number of other clients' advances."""
    ids = sorted({int(c) for c in client_ids if c is not None})
    if not ids:
        return {}
    adv = ClientAdvancePayment
    mine = select(adv.id).where(adv.clientid.in_(ids))
    used = (select(InvoicePayment.advance_payment_id.label("aid"), func.sum(InvoicePayment.amount).label("used"))
            .where(InvoicePayment.advance_payment_id.in_(mine))
            .group_by(InvoicePayment.advance_payment_id).subquery())
    rows = db.session.execute(
        select(adv.clientid, adv.currency, func.sum(adv.amount), func.sum(func.coalesce(used.c.used, 0)))
        .outerjoin(used, used.c.aid == adv.id)
        .where(adv.clientid.in_(ids))
        .group_by(adv.clientid, adv.currency))
    credit = {(client_id, currency_id): money(paid_in) - money(spent)
              for client_id, currency_id, paid_in, spent in rows}
    return {k: v for k, v in credit.items() if v > 0}


def credit_map(client_ids) -> dict[tuple[int, int], Decimal]:
    """{(client id, currency id): available credit} of ``client_ids`` with credit left.

    Kept for the request per client: a grid page or an API list loads the credit of its rows'
    clients at once (``load_credit``, two grouped queries, whatever the page size and whatever the
    number of advances of other clients); a client asked for afterwards costs its own two queries."""
    cache = g.setdefault(_CACHE, {"loaded": set(), "credit": {}}) if has_request_context() \
        else {"loaded": set(), "credit": {}}
    missing = {c for c in client_ids if c is not None} - cache["loaded"]
    if missing:
        cache["credit"].update(_credit_of(missing))
        cache["loaded"] |= missing
    wanted = set(client_ids)
    return {k: v for k, v in cache["credit"].items() if k[0] in wanted}


def load_credit(rows, client_key: str = "clientid") -> None:
    """Load the credit of the clients of a page of ``rows`` in one go (a grid page, an API list)."""
    credit_map({getattr(r, client_key) for r in rows})


def _forget_credit() -> None:
    if has_request_context():
        g.pop(_CACHE, None)


def available_credit(client_id: int, currency_id: int | None) -> Decimal:
    return credit_map({client_id}).get((client_id, currency_id), ZERO)


def client_credit(client_id: int) -> dict[str, Decimal]:
    """{currency code: available credit} of one client."""
    names = {c.id: c.name for c in db.session.query(Currency)}
    return {names.get(cur, str(cur)): amount for (cid, cur), amount in sorted(credit_map({client_id}).items())}


def api_credit(client) -> dict[str, str]:
    """The client's ``available_credit`` in the API: {"RON": "150.00"}."""
    return {code: str(amount) for code, amount in client_credit(client.userid).items()}


api_value(Client, "available_credit", api_credit)
page_loader(Invoice, load_credit, doors=("grid",))  # "Apply advance payment" on a grid page
page_loader(Client, lambda rows: load_credit(rows, "userid"), doors=("api",))  # the API's available_credit


def client_page(client) -> dict:
    """What admin/client_credit.html shows under a client's details."""
    advances = (db.session.query(ClientAdvancePayment).filter_by(clientid=client.userid)
                .order_by(ClientAdvancePayment.date.desc(), ClientAdvancePayment.id.desc()).all())
    applied = _applied_by_advance([a.id for a in advances])
    return {"credit": client_credit(client.userid),
            "advances": [{"row": a, "applied": applied.get(a.id, ZERO),
                          "left": money(a.amount - applied.get(a.id, ZERO))} for a in advances]}


# --- recording an advance ---------------------------------------------------------------------

def _currencies():
    return [(str(c.id), c.name) for c in db.session.query(Currency).order_by(Currency.isdefault.desc(), Currency.name)]


class AdvanceForm(PaymentForm):
    # Empty: the client's default currency, else the base currency.
    currency = SelectField("Currency", coerce=lambda v: int(v) if v not in (None, "") else None,
                           choices=lambda: [("", "Client's default")] + _currencies(),
                           validators=[Optional()], invalid_choice_message="Choose a currency from the list.")


def _active_client(client) -> str | None:
    return None if client.active else f"Client {client.company} is inactive; activate it to record a payment."


@action(Client, "record_advance_payment", "Record advance payment", form=AdvanceForm, precondition=_active_client,
        icon="fa-money")
def record_advance_payment(client, actor, amount: Decimal, paymentmode: int, currency: int | None = None,
                           date: dt.date | None = None, transactionid: str | None = None, note: str | None = None):
    currency = currency or client.default_currency or default_currency_id()
    if currency is None:
        raise ActionError("No currency is set up; add one in Settings → Currencies.", field="currency")
    advance = ClientAdvancePayment(clientid=client.userid, amount=money(amount), currency=currency,
                                   date=date or dt.date.today(), paymentmode=paymentmode,
                                   transactionid=(transactionid or "").strip() or None, note=note or None,
                                   staffid=getattr(actor, "staffid", None))
    db.session.add(advance)
    db.session.flush()
    _forget_credit()
    code = db.session.get(Currency, currency).name
    return (f"Advance payment of {advance.amount:,.2f} {code} recorded for {client.company}; available credit: "
            f"{available_credit(client.userid, currency):,.2f} {code}")


# --- applying it to an invoice ----------------------------------------------------------------

class ApplyForm(Form):
    amount = DecimalField("Amount (empty: as much as the credit and the invoice allow)", places=2,
                          validators=[Optional(), _positive])
    date = DateField("Payment date", default=dt.date.today, validators=[Optional()])


def _code(currency_id) -> str:
    cur = db.session.get(Currency, currency_id) if currency_id else None
    return cur.name if cur else ""


def _can_apply(invoice) -> str | None:
    if invoice.status == CANCELLED:
        return f"{invoice_name(invoice)} is cancelled; an advance cannot be applied to it."
    if invoice.status == PAID:
        return f"{invoice_name(invoice)} is already paid."
    currency = currency_of_invoice(invoice)
    if available_credit(invoice.clientid, currency) <= 0:
        return (f"Client {invoice.client.company} has no advance payment credit in {_code(currency)}; "
                "record one on the client first (Record advance payment).")
    return None


@action(Invoice, "apply_advance", "Apply advance payment", form=ApplyForm, precondition=_can_apply,
        icon="fa-credit-card")
def apply_advance(invoice, actor, amount: Decimal | None = None, date: dt.date | None = None):
    currency = currency_of_invoice(invoice)
    code = _code(currency)
    # Lock the client's advances in this currency: two applications at once cannot both spend them.
    advances = (db.session.query(ClientAdvancePayment)
                .filter_by(clientid=invoice.clientid, currency=currency)
                .order_by(ClientAdvancePayment.date, ClientAdvancePayment.id).with_for_update().all())
    applied = _applied_by_advance([a.id for a in advances])
    remaining = [(a, money(a.amount - applied.get(a.id, ZERO))) for a in advances]
    credit = sum((left for _a, left in remaining if left > 0), ZERO)
    left = left_to_pay(invoice)
    if left <= 0:
        raise ActionError(f"{invoice_name(invoice)} has nothing left to pay.")
    amount = money(amount) if amount is not None else min(credit, left)
    if amount > credit:
        raise ActionError(f"{amount} {code} is more than the advance credit of client {invoice.client.company}: "
                          f"{credit} {code}.", field="amount")
    if amount > left:
        raise ActionError(f"{amount} {code} is more than what is left to pay on {invoice_name(invoice)}: "
                          f"{left} {code}.", field="amount")
    to_apply = amount
    for advance, available in remaining:
        if to_apply <= 0:
            break
        if available <= 0:
            continue
        part = min(available, to_apply)
        add_payment(invoice, actor, part, advance.paymentmode, date, advance.transactionid,
                    f"Applied from advance payment #{advance.id} of {advance.date:%Y-%m-%d}",
                    advance_payment_id=advance.id, email_receipt=False)
        to_apply -= part
    _forget_credit()
    left_now = left - amount
    return (f"Advance credit of {amount} {code} applied to {shown(invoice)}; {InvoiceStatus.label_of(invoice.status)}"
            + (f", {left_now} {code} left to pay" if left_now else "") + f"; credit left: {credit - amount} {code}")
