"""Document totals, computed on the server with Decimal and half-up rounding (schema.md, "Totals").

The one rule every door shows (grid, line editor, PDF, portal, API, e-Factura XML), as EN 16931
counts it. Prices and quantities are kept as written (a price may have 4 decimals); amounts are
rounded to 2, half-up, once each:

- line amount = qty × rate, rounded (less its own discount percent, rounded); optional lines not
  selected are skipped; subtotal = Σ line amounts;
- a 'before_tax' discount (a percent of the subtotal, or a fixed amount) is spread over the lines'
  VAT groups in proportion to their amounts (:func:`spread`); each tax = (its base − its share of
  the discount) × rate / 100, rounded once (:func:`vat`), grouped by (name, rate);
- an 'after_tax' discount comes off subtotal + tax;
- total = subtotal + taxes − discount + adjustment.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Hashable, Mapping

from crm.core.models.base import money

HUNDRED = Decimal(100)
ZERO = Decimal("0.00")


@dataclass
class Totals:
    subtotal: Decimal
    taxes: dict[tuple[str, Decimal], Decimal] = field(default_factory=dict)
    discount: Decimal = ZERO
    adjustment: Decimal = ZERO
    bases: dict[tuple[str, Decimal], Decimal] = field(default_factory=dict)  # what each tax is charged on

    @property
    def total_tax(self) -> Decimal:
        return money(sum(self.taxes.values(), Decimal(0)))

    @property
    def total(self) -> Decimal:
        return money(self.subtotal + self.total_tax - self.discount + self.adjustment)


def line_net(qty, price, discount_percent=None) -> Decimal:
    """qty × price rounded to the cent, less the line's discount percent rounded to the cent."""
    gross = money(Decimal(qty or 0) * Decimal(price or 0))
    pct = Decimal(discount_percent or 0)
    return gross - money(gross * pct / HUNDRED) if pct else gross


def counts(line) -> bool:
    """An optional line the client did not select is not part of the document's amounts."""
    return not (getattr(line, "is_optional", False) and not getattr(line, "is_selected", True))


def line_amount(line) -> Decimal:
    if not counts(line):
        return Decimal(0)
    return line_net(line.qty, line.rate, getattr(line, "discount_percent", None))


def vat(base, rate) -> Decimal:
    """The VAT of one rate: its (discounted) base × rate / 100, rounded once."""
    return money(Decimal(base) * Decimal(rate) / HUNDRED)


def spread(amount: Decimal, bases: Mapping[Hashable, Decimal]) -> dict[Hashable, Decimal]:
    """``amount`` shared among ``bases`` in proportion to them, in cents; the last base takes what the
    rounding leaves, so the shares add up to ``amount`` exactly."""
    keys = list(bases)
    whole = sum(bases.values(), Decimal(0))
    shares, left = {}, Decimal(amount)
    for i, key in enumerate(keys):
        share = left if i == len(keys) - 1 else (money(amount * bases[key] / whole) if whole else ZERO)
        shares[key] = share
        left -= share
    return shares


def compute(lines, discount_percent=0, discount_type=None, discount_total=None, adjustment=0) -> Totals:
    """Totals of ``lines`` (objects with qty, rate, taxes[taxname, taxrate], is_optional, is_selected).

    The discount is ``discount_percent`` of the base when given, else the fixed ``discount_total``.
    """
    # Lines grouped by the taxes they carry (in order of appearance): the groups a before-tax
    # discount is spread over, the same as e-Factura's VAT breakdown (crm/efactura/document.py).
    groups: dict[tuple, Decimal] = {}
    for line in lines:
        if not counts(line):
            continue
        key = tuple((tax.taxname, Decimal(tax.taxrate)) for tax in getattr(line, "taxes", []) or [])
        groups[key] = groups.get(key, Decimal(0)) + line_amount(line)
    subtotal = money(sum(groups.values(), Decimal(0)))
    pct = Decimal(discount_percent or 0)
    discount = ZERO
    if discount_type == "before_tax":
        discount = money(subtotal * pct / HUNDRED) if pct else money(discount_total or 0)
        shares = spread(discount, groups) if subtotal else {}
    else:
        shares = {}
    bases: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for key, amount in groups.items():
        for tax in key:
            bases[tax] += amount - shares.get(key, ZERO)
    taxes = {key: vat(base, key[1]) for key, base in bases.items()}
    if discount_type == "after_tax":
        base = subtotal + sum(taxes.values(), Decimal(0))
        discount = money(base * pct / HUNDRED) if pct else money(discount_total or 0)
    return Totals(subtotal=subtotal, taxes=taxes, discount=money(discount), adjustment=money(adjustment or 0),
                  bases={key: money(base) for key, base in bases.items()})


# Documents whose lines have another shape than tblitemable (purchasing) store their totals with the
# function their area registers here, so this rule imports no area.
_OTHER_LINES: list[tuple[Callable[[object], bool], Callable[[object], None]]] = []


def refresh_with(applies: Callable[[object], bool]):
    """Register ``func(document)`` as the totals refresh of the documents ``applies`` to."""
    def register(func):
        _OTHER_LINES.append((applies, func))
        return func
    return register


def refresh(document) -> None:
    """Store the computed totals on a proposal, estimate or invoice on every save, from any door; a
    registered area's documents get their own refresh; other records are left alone."""
    rel = type(document).__mapper__.relationships.get("items")
    if rel is None or rel.mapper.class_.__tablename__ != "tblitemable":
        for applies, func in _OTHER_LINES if rel is not None else ():
            if applies(document):
                func(document)
        return
    t = compute(document.items, document.discount_percent, document.discount_type, document.discount_total,
                document.adjustment)
    document.subtotal, document.total_tax, document.total = t.subtotal, t.total_tax, t.total
    document.discount_total = t.discount
