"""Document totals, computed on the server with Decimal and half-up rounding (schema.md, "Totals").

line amount = qty × rate (optional lines not selected are skipped); subtotal = Σ amounts;
each tax = Σ amount × rate / 100 grouped by (name, rate); a 'before_tax' discount reduces the
subtotal and every tax proportionally, an 'after_tax' one comes off subtotal + tax;
total = subtotal + taxes − discount + adjustment.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from ..models.base import money

HUNDRED = Decimal(100)


@dataclass
class Totals:
    subtotal: Decimal
    taxes: dict[tuple[str, Decimal], Decimal] = field(default_factory=dict)
    discount: Decimal = Decimal("0.00")
    adjustment: Decimal = Decimal("0.00")

    @property
    def total_tax(self) -> Decimal:
        return money(sum(self.taxes.values(), Decimal(0)))

    @property
    def total(self) -> Decimal:
        return money(self.subtotal + self.total_tax - self.discount + self.adjustment)


def line_amount(line) -> Decimal:
    if getattr(line, "is_optional", False) and not getattr(line, "is_selected", True):
        return Decimal(0)
    gross = money(Decimal(line.qty or 0) * Decimal(line.rate or 0))
    pct = Decimal(getattr(line, "discount_percent", None) or 0)  # a line discount, e-Factura style
    return gross - money(gross * pct / HUNDRED) if pct else gross


def compute(lines, discount_percent=0, discount_type=None, discount_total=None, adjustment=0) -> Totals:
    """Totals of ``lines`` (objects with qty, rate, taxes[taxname, taxrate], is_optional, is_selected).

    The discount is ``discount_percent`` of the base when given, else the fixed ``discount_total``.
    """
    subtotal = Decimal(0)
    taxes: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for line in lines:
        amount = line_amount(line)
        subtotal += amount
        for tax in getattr(line, "taxes", []) or []:
            rate = Decimal(tax.taxrate)
            taxes[(tax.taxname, rate)] += amount * rate / HUNDRED
    subtotal = money(subtotal)
    taxes = {k: money(v) for k, v in taxes.items()}
    pct = Decimal(discount_percent or 0)
    discount = Decimal(0)
    if discount_type in ("before_tax", "after_tax"):
        base = subtotal if discount_type == "before_tax" else subtotal + sum(taxes.values(), Decimal(0))
        discount = money(base * pct / HUNDRED) if pct else money(discount_total or 0)
        if discount_type == "before_tax" and subtotal:
            # The taxes shrink in proportion: tax on the discounted base.
            factor = (subtotal - discount) / subtotal
            taxes = {k: money(v * factor) for k, v in taxes.items()}
    return Totals(subtotal=subtotal, taxes=taxes, discount=money(discount), adjustment=money(adjustment or 0))


def refresh(document) -> None:
    """Store the computed totals on a proposal, estimate or invoice (no-op for other records)."""
    rel = type(document).__mapper__.relationships.get("items")
    if rel is None or rel.mapper.class_.__tablename__ != "tblitemable":
        if getattr(document, "__tablename__", "").startswith("tblpur_") and rel is not None:
            from .purchase_common import refresh as refresh_purchase

            refresh_purchase(document)  # purchasing lines have their own shape
        return
    t = compute(document.items, document.discount_percent, document.discount_type, document.discount_total,
                document.adjustment)
    document.subtotal, document.total_tax, document.total = t.subtotal, t.total_tax, t.total
    document.discount_total = t.discount
