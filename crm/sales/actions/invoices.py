"""Invoice actions: issue a draft, cancel, restore; what freezes an invoice; the overdue sweep.
The status rule itself is crm/sales/invoice_status.py."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import inspect, select

from crm.core.extensions import db
from crm.core.models.base import FieldError
from crm.core.numbering import assign, shown
from crm.core.registry import ActionError, action
from crm.core.resources import fk_relationships
from crm.sales.actions.sales_activity import log_sales_activity
from crm.sales.invoice_status import (
    CANCELLED,
    DRAFT,
    OVERDUE,
    PAID,
    PARTIAL,
    UNPAID,
    amount_paid,
    compute_status,
    recompute_status,
)
from crm.sales.models.documents import Invoice, InvoiceStatus, ItemLine, ItemTax


def sweep_overdue(today: date | None = None) -> int:
    """Recompute every open invoice with a due date in the past; returns how many became Overdue."""
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


# What an issued invoice keeps once it has payments or went to ANAF: its legal and money content.
# Notes, terms, the sale agent and reminders stay editable.
FROZEN_WITH_PAYMENTS = ("clientid", "currency", "exchange_rate", "discount_percent", "discount_total",
                        "discount_type", "adjustment", "subtotal", "total_tax", "total")
FROZEN_AT_ANAF = FROZEN_WITH_PAYMENTS + ("date", "duedate", "efactura_billing_reference", "billing_street",
                                         "billing_city", "billing_state", "billing_zip", "billing_country")
AT_ANAF = ("uploading", "awaiting_validation", "ok", "uncertain")  # ANAF holds it, or may


def frozen_because(invoice) -> str | None:
    """Why the invoice's content can no longer change, or None: it has payments, or was sent to ANAF."""
    if invoice.id is None:
        return None
    status = inspect(invoice).attrs.efactura_status.history
    if (status.deleted or [invoice.efactura_status])[0] in AT_ANAF:
        return "was sent to ANAF (e-Factura)"
    if amount_paid(invoice.id) != 0:
        return "has payments"
    return None


def frozen_error(field: str, invoice, reason: str, verb: str = "changed") -> FieldError:
    return FieldError(field, f"{invoice_name(invoice)} {reason}: its {field.replace('_', ' ')} cannot be {verb}. "
                             "Cancel it and issue a credit note (storno) instead.")


def refuse_frozen_change(invoice) -> None:
    """An invoice edited through a generic door after it has payments or went to ANAF: what the
    client owes and what ANAF holds stay as they are (FieldError naming the first changed field)."""
    with db.session.no_autoflush:  # compare with the database, not with what the door just set
        reason = frozen_because(invoice)
        if reason is None:
            return
        state, links = inspect(invoice), fk_relationships(Invoice)  # a form sets `client`, not `clientid`
        for key in FROZEN_AT_ANAF if reason.startswith("was sent") else FROZEN_WITH_PAYMENTS:
            if state.attrs[key].history.has_changes() or (key in links and state.attrs[links[key]].history.has_changes()):
                raise frozen_error(key, invoice, reason)
        if _lines_as_stored(invoice) != _lines_as_set(invoice):
            raise frozen_error("items", invoice, reason)


def _line_key(description, long_description, qty, rate, unit, discount, taxes) -> tuple:
    return (description or "", long_description or "", Decimal(qty or 0), Decimal(rate or 0), unit or "",
            Decimal(discount or 0), tuple(sorted((name, Decimal(r)) for name, r in taxes)))


def _lines_as_stored(invoice) -> list[tuple]:
    """The lines as the database holds them (a Core select: what the door set is not seen)."""
    lines, taxes = ItemLine.__table__, ItemTax.__table__
    rows = db.session.execute(select(lines.c.id, lines.c.description, lines.c.long_description, lines.c.qty,
                                     lines.c.rate, lines.c.unit, lines.c.discount_percent)
                              .where(lines.c.rel_id == invoice.id, lines.c.rel_type == "invoice")).all()
    by_line: dict[int, list] = {}
    for itemid, name, rate in db.session.execute(select(taxes.c.itemid, taxes.c.taxname, taxes.c.taxrate)
                                                 .where(taxes.c.itemid.in_([r.id for r in rows]))):
        by_line.setdefault(itemid, []).append((name, rate))
    return sorted(_line_key(*r[1:], by_line.get(r.id, [])) for r in rows)


def _lines_as_set(invoice) -> list[tuple]:
    return sorted(_line_key(li.description, li.long_description, li.qty, li.rate, li.unit, li.discount_percent,
                            [(t.taxname, t.taxrate) for t in li.taxes]) for li in invoice.items)


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
