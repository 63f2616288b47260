"""What every purchasing document shares: line and document totals, numbers, copying lines from
one document of the chain to the next, the vendor's email address, a WTForms vendor picker.

Purchase lines are not tblitemable lines: each holds ``quantity × unit_price = into_money``, an
optional ``discount`` percent, one tax (``tax`` → tbltaxes) and its ``tax_value``, and ``total``.
All money is Decimal, rounded half-up to 2 places by :func:`crm.core.models.base.money`.
"""
from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import func, true
from wtforms import SelectMultipleField

from crm.catalog.models import Currency, Tax
from crm.core import options, totals
from crm.core.extensions import db
from crm.core.models.base import money
from crm.core.numbering import format_number, take_next
from crm.core.registry import ActionError
from crm.core.totals import line_net, vat
from crm.purchasing.models import (
    PurchaseRequestDetail,
    Vendor,
    VendorContact,
    VendorInvoicePaymentStatus,
    VendorPayment,
)

HUNDRED = Decimal(100)
ZERO = Decimal("0.00")
APPROVED = 2  # tblpur_invoice_payment.approval_status: Perfex 1 pending, 2 approved, 3 rejected


def refuse(refusal: str | None) -> None:
    """Raise a refusal found inside an action. Grid preconditions look at the status only (no query per
    row of a list page); what needs the database is checked here, when the action runs."""
    if refusal:
        raise ActionError(refusal)


# --- totals ----------------------------------------------------------------------------------

def line_totals(line) -> None:
    """Fill a line's into_money, discount_money, tax_value and total from quantity, price, discount, tax."""
    amount = line_net(line.quantity, line.unit_price)
    line.into_money = amount
    discount = amount - line_net(line.quantity, line.unit_price, getattr(line, "discount", None))
    if hasattr(line, "discount_money"):
        line.discount_money = discount
    # A form sets the relationship, the API the id; before a flush only the one given is there.
    tax = line.tax_rel if line.tax_rel is not None else (db.session.get(Tax, line.tax) if line.tax else None)
    rate = Decimal(tax.taxrate) if tax is not None and tax.taxrate is not None else Decimal(0)
    line.tax_value = vat(amount - discount, rate)
    line.total = money(amount - discount + line.tax_value)


def refresh_totals(doc) -> None:
    """Recompute every line and the document's subtotal (after line discounts), tax and total."""
    subtotal = tax = ZERO
    for line in doc.items:
        line_totals(line)
        subtotal += line.into_money - getattr(line, "discount_money", ZERO)
        tax += line.tax_value
    doc.subtotal = money(subtotal)
    if hasattr(doc, "total_tax"):
        doc.total_tax = money(tax)
    else:  # tblpur_invoices keeps its tax amount in ``tax``
        doc.tax = money(tax)
    pct = getattr(doc, "discount_percent", None)
    discount = money(subtotal * Decimal(pct) / HUNDRED) if pct else money(getattr(doc, "discount_total", None) or 0)
    if hasattr(doc, "discount_total"):
        doc.discount_total = discount
    doc.total = money(subtotal + tax - discount)


# --- numbers ---------------------------------------------------------------------------------

# table -> (column holding the shown number, prefix option, next-number option)
SERIES = {
    "tblpur_request": ("pur_rq_code", "pur_request_prefix", "next_pr_number"),
    "tblpur_orders": ("pur_order_number", "pur_order_prefix", "next_po_number"),
    "tblpur_estimates": (None, "pur_estimate_prefix", "next_pur_estimate_number"),
    "tblpur_invoices": ("invoice_number", "pur_invoice_prefix", "next_pur_invoice_number"),
}


def assign_number(doc) -> str:
    """Give a purchasing document its number once (never a number already in use)."""
    column, prefix_option, next_option = SERIES[doc.__tablename__]
    model = type(doc)
    if column is None:  # quotations: prefix + integer number, as Perfex stores them
        if doc.number is None:
            doc.prefix = options.get(prefix_option) or ""
            doc.number = take_next(next_option)
        return str(doc)
    if getattr(doc, column):
        return getattr(doc, column)
    prefix = options.get(prefix_option) or ""
    while True:
        number = take_next(next_option)
        shown = format_number(prefix, number)
        clash = db.session.query(model.id).filter(getattr(model, column) == shown,
                                                  model.id != doc.id if doc.id else true()).first()
        if clash is None:
            break
    setattr(doc, column, shown)
    if hasattr(doc, "number") and doc.number is None:
        doc.number = number
    return shown


# --- a vendor invoice's payment status (kept here: the totals hook recomputes it on every save) ---

def amount_paid(inv) -> Decimal:
    total = (db.session.query(func.coalesce(func.sum(VendorPayment.amount), 0))
             .filter(VendorPayment.pur_invoice == inv.id, VendorPayment.approval_status == APPROVED).scalar())
    return money(total)


def left_to_pay(inv) -> Decimal:
    return money(Decimal(inv.total or 0) - amount_paid(inv))


def status_for(total: Decimal, paid: Decimal) -> str:
    P = VendorInvoicePaymentStatus
    if paid <= 0:
        return P.UNPAID.value
    return P.PAID.value if paid >= total else P.PARTIALLY_PAID.value


def recompute_payment_status(inv) -> str:
    inv.payment_status = status_for(money(inv.total), amount_paid(inv))
    return inv.payment_status


@totals.refresh_with(lambda doc: doc.__tablename__.startswith("tblpur_"))
def refresh(doc) -> None:
    """The totals refresh of purchasing documents on every save (admin, API): crm.core.totals calls it."""
    refresh_totals(doc)
    assign_number(doc)
    if doc.__tablename__ == "tblpur_invoices" and doc.id:
        recompute_payment_status(doc)


# --- requests for catalog items ----------------------------------------------------------------

def base_currency_id() -> int | None:
    """The default currency: the one catalog purchase prices are in."""
    return db.session.query(Currency.id).filter(Currency.isdefault.is_(True)).order_by(Currency.id).scalar()


def item_request_line(item, quantity, on_hand):
    """An RFQ line for ``quantity`` of a catalog item at its purchase price, with the item's tax, so
    the quotations and the purchase order copied from the RFQ carry the tax too."""
    line = PurchaseRequestDetail(item_code=item.id, item_text=str(item), unit_id=item.unit_id, quantity=quantity,
                                 inventory_quantity=on_hand, unit_price=item.purchase_price or ZERO, tax=item.tax)
    line_totals(line)
    return line


# --- copying lines along the chain ------------------------------------------------------------

COPIED = ("item_code", "unit_id", "unit_price", "quantity", "tax", "discount")


def line_text(line) -> str:
    text = getattr(line, "item_text", None) or getattr(line, "description", None)
    return text or (str(line.item) if line.item is not None else "")


def copy_lines(source_lines, target_cls) -> list:
    """New ``target_cls`` lines with the item, unit, price, quantity, tax and discount of each source line."""
    out = []
    keys = {c.key for c in target_cls.__table__.columns}
    for src in source_lines:
        values = {k: getattr(src, k) for k in COPIED if k in keys and hasattr(src, k)}
        text_key = "item_text" if "item_text" in keys else "description"
        values[text_key] = line_text(src) or None
        line = target_cls(**values)
        line_totals(line)
        out.append(line)
    return out


# --- vendors ---------------------------------------------------------------------------------

def vendor_email(vendor) -> tuple[str, str]:
    """(email, name to greet) of a vendor: its primary contact, else any active contact with an email."""
    if vendor is None:
        raise ActionError("No vendor is chosen; pick the vendor first.", field="vendor")
    contact = (db.session.query(VendorContact)
               .filter(VendorContact.userid == vendor.userid, VendorContact.active.is_(True),
                       VendorContact.email.isnot(None), VendorContact.email != "")
               .order_by(VendorContact.is_primary.desc(), VendorContact.id).first())
    if contact is None:
        raise ActionError(f"Vendor {vendor.company} has no contact with an email address: add one in "
                          "Purchasing → Vendor contacts.", field="vendor")
    return contact.email, str(contact)


def _active_vendors():
    return [(v.userid, v.company) for v in
            db.session.query(Vendor).filter(Vendor.active.is_(True)).order_by(Vendor.company)]


class VendorsField(SelectMultipleField):
    """Vendors picked in the grid (several values), or given as "1,2" / [1, 2] by the API and CLI."""

    def __init__(self, label="Vendors", **kw):
        super().__init__(label, coerce=int, choices=_active_vendors, **kw)

    def process_formdata(self, valuelist):
        ids = [p for v in valuelist for p in re.findall(r"\d+", str(v))]
        super().process_formdata(ids)


def vendor_ids_text(ids) -> str:
    return ",".join(str(i) for i in dict.fromkeys(ids))


def parse_vendor_ids(text: str | None) -> list[int]:
    return [int(p) for p in re.findall(r"\d+", text or "")]
