"""Invoice status: a function of total, payments, due date and cancellation, computed here only."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, inspect

from ..extensions import db
from ..models import Invoice, InvoiceStatus
from ..models.base import FieldError
from .numbering import assign, shown
from .registry import ActionError, action
from .sales_activity import log_sales_activity

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


def recompute_status(invoice, today: date | None = None, paid: Decimal | None = None) -> int:
    """``paid``: what the caller already knows was paid (a new invoice, a payment just added to a
    locked invoice); otherwise it is summed from the payments."""
    paid = Decimal(amount_paid(invoice.id)) if paid is None else paid
    invoice.status = compute_status(invoice.status, invoice.total, paid, invoice.duedate, today or date.today())
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


# --- invoice actions: issue a draft, cancel, restore (recording a payment: payments.py) ---


def entered(invoice) -> None:
    """An invoice created or edited through a generic door (the API, the grid's form) keeps the rule:
    Draft and Cancelled stay as asked (Cancelled not while it has payments); any other status is the
    one its total, payments and due date give (asking for Unpaid issues it), and Paid or Partially
    paid cannot be asked for when the payments say otherwise: record_payment records payments."""
    asked = (inspect(invoice).attrs.status.history.added or [None])[0]
    status = DRAFT if invoice.status is None else invoice.status
    if status == DRAFT or (status == CANCELLED and asked != CANCELLED):
        return
    paid = Decimal(amount_paid(invoice.id)) if invoice.id is not None else Decimal(0)
    if status == CANCELLED:
        if paid > 0:
            raise FieldError("status", f"{invoice_name(invoice)} has payments; an invoice with payments cannot "
                                       "be cancelled (issue a credit note, or delete the payments first).")
        return
    derived = compute_status(UNPAID, invoice.total, paid, invoice.duedate, date.today())
    if asked in (PAID, PARTIAL) and derived != asked:
        raise FieldError("status", f"{InvoiceStatus.label_of(asked)} follows from the payments ({paid} paid of "
                                   f"{invoice.total}); record a payment with record_payment.")
    invoice.status = derived


def invoice_name(invoice) -> str:
    return f"Invoice {shown(invoice)}"


def issue_draft(invoice) -> None:
    """A draft leaves draft: it takes its real number and its status from payments and due date."""
    if invoice.status == DRAFT:
        assign(invoice)
        invoice.status = UNPAID
        recompute_status(invoice)


def _is_draft(invoice) -> str | None:
    if invoice.status != DRAFT:
        return f"{invoice_name(invoice)} is not a draft (it is {InvoiceStatus.label_of(invoice.status)})."
    return None


@action(Invoice, "issue", "Issue (mark draft as unpaid)", precondition=_is_draft, icon="fa-hashtag")
def issue(invoice, actor):
    issue_draft(invoice)
    log_sales_activity(invoice, actor, f"Issued as {shown(invoice)}")
    return f"{invoice_name(invoice)} issued ({InvoiceStatus.label_of(invoice.status)})"


def _cancellable(invoice) -> str | None:
    if invoice.status == CANCELLED:
        return f"{invoice_name(invoice)} is already cancelled."
    if invoice.status in (PAID, PARTIAL):
        return (f"{invoice_name(invoice)} is {InvoiceStatus.label_of(invoice.status)}; an invoice with payments "
                "cannot be cancelled (issue a credit note, or delete the payments first).")
    return None


@action(Invoice, "mark_cancelled", "Mark as cancelled", precondition=_cancellable, destructive=True,
        confirm="Mark this invoice as cancelled?", icon="fa-ban")
def mark_cancelled(invoice, actor):
    paid = amount_paid(invoice.id)
    if paid > 0:  # the status may lag behind a payment recorded elsewhere
        raise ActionError(f"{invoice_name(invoice)} has {paid} paid; an invoice with payments cannot be cancelled.")
    invoice.status = CANCELLED
    log_sales_activity(invoice, actor, "Marked as cancelled")
    return f"{invoice_name(invoice)} cancelled"


def _is_cancelled(invoice) -> str | None:
    return None if invoice.status == CANCELLED else f"{invoice_name(invoice)} is not cancelled."


@action(Invoice, "unmark_cancelled", "Unmark as cancelled", precondition=_is_cancelled, icon="fa-undo")
def unmark_cancelled(invoice, actor):
    # Back to what its payments and due date say; a draft that was cancelled is a draft again.
    invoice.status = DRAFT if invoice.number is None else UNPAID
    recompute_status(invoice)
    log_sales_activity(invoice, actor, "Unmarked as cancelled")
    return f"{invoice_name(invoice)} restored ({InvoiceStatus.label_of(invoice.status)})"
