"""Invoice status: a function of total, payments, due date and cancellation, computed here only.

Pure of actions: documents, payments, conversions and the sweeper all read it from here."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func

from crm.core.extensions import db
from crm.sales.models.documents import InvoicePayment, InvoiceStatus

DRAFT, UNPAID, PAID, PARTIAL, OVERDUE, CANCELLED = 6, 1, 2, 3, 4, 5


def compute_status(current: int, total: Decimal, paid: Decimal, duedate: date | None, today: date) -> int:
    """Perfex's rule: draft and cancelled stay; paid ≥ total → Paid; some paid → Partially paid
    (even past due); nothing paid and past due → Overdue; else Unpaid."""
    if current in (DRAFT, CANCELLED):
        return current
    if paid >= (total or Decimal(0)) and paid > 0:
        return PAID
    if paid > 0:
        return PARTIAL
    if duedate is not None and duedate < today:
        return OVERDUE
    return UNPAID


def amount_paid(invoice_id: int) -> Decimal:
    return db.session.query(func.coalesce(func.sum(InvoicePayment.amount), 0)) \
        .filter(InvoicePayment.invoiceid == invoice_id).scalar() or Decimal(0)


def recompute_status(invoice, today: date | None = None, paid: Decimal | None = None) -> int:
    """``paid``: what the caller already knows was paid (a new invoice, a payment just added to a
    locked invoice); otherwise it is summed from the payments."""
    paid = Decimal(amount_paid(invoice.id)) if paid is None else paid
    invoice.status = compute_status(invoice.status, invoice.total, paid, invoice.duedate, today or date.today())
    return invoice.status


def invoiced_statuses() -> tuple[int, ...]:
    """The statuses whose invoices count as invoiced in the reports and their roll-ups."""
    S = InvoiceStatus
    return (S.UNPAID.value, S.PARTIALLY_PAID.value, S.PAID.value, S.OVERDUE.value)
