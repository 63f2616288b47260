"""Invoice status: a function of total, payments, due date and cancellation, computed here only."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func

from ..extensions import db

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
    from ..models import InvoicePayment

    return db.session.query(func.coalesce(func.sum(InvoicePayment.amount), 0)) \
        .filter(InvoicePayment.invoiceid == invoice_id).scalar() or Decimal(0)


def recompute_status(invoice, today: date | None = None) -> int:
    invoice.status = compute_status(invoice.status, invoice.total, Decimal(amount_paid(invoice.id)),
                                    invoice.duedate, today or date.today())
    return invoice.status


def sweep_overdue(today: date | None = None) -> int:
    """Recompute every open invoice with a due date in the past; returns how many became Overdue."""
    from ..models import Invoice

    today = today or date.today()
    changed = 0
    candidates = db.session.query(Invoice).filter(Invoice.duedate < today,
                                                  Invoice.status.in_([UNPAID, PARTIAL])).all()
    for inv in candidates:
        before = inv.status
        if recompute_status(inv, today) == OVERDUE and before != OVERDUE:
            changed += 1
    db.session.commit()
    return changed
