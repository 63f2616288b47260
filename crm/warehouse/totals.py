"""The amounts of a warehouse document, computed from its lines on every save at a generic door (and by
the actions that make one), so nobody types a total that disagrees with the lines. The document's
columns are declared ``totals`` in its Resource (refused at the doors, as an invoice's total is).

Each line: amount = quantity × unit price rounded to the cent (crm/core/totals.py ``line_net``), less its
discount percent where it has one; its tax where the line keeps a tax amount (a goods receipt's
``tax_money``, a client return's ``total_amount``). The document sums its lines:

- goods receipt: ``total_goods_money`` = ``value_of_inventory`` = Σ goods amounts, ``total_tax_money`` =
  Σ line taxes, ``total_money`` = goods + tax;
- delivery note: ``sub_total`` = Σ line amounts, ``total_discount`` = Σ line discounts, ``after_discount``
  = the difference, ``total_money`` = after discount + ``shipping_fee`` (no tax: the invoice carries it);
- packing list: the same, less its ``additional_discount``, into ``subtotal``, ``discount_total``,
  ``total_after_discount`` and ``total_amount``;
- client return: ``subtotal`` = Σ line amounts after discount, ``total_amount`` = Σ line totals with tax
  (its ``fee_return_order`` is a fee a person types, not part of them).

An approved or rejected document keeps what it had (crm/warehouse/entry_rules.py: its lines are settled).
"""
from __future__ import annotations

from decimal import Decimal

from crm.catalog.models import Tax
from crm.core import totals
from crm.core.extensions import db
from crm.core.models.base import money
from crm.core.totals import line_net, vat
from crm.warehouse.models import (
    GoodsDelivery,
    GoodsReceipt,
    OrderReturn,
    PackingList,
    WarehouseApproval,
)

ZERO = Decimal("0.00")


def _rate(line) -> Decimal:
    """The line's tax rate: a form sets the relationship, the API the id (before a flush only one is there)."""
    tax = line.tax_rel if line.tax_rel is not None else (db.session.get(Tax, line.tax) if line.tax else None)
    return Decimal(tax.taxrate) if tax is not None and tax.taxrate is not None else Decimal(0)


def _net(qty, price, discount=None) -> tuple[Decimal, Decimal]:
    """(amount, discount) of a line."""
    amount = line_net(qty, price)
    return amount, amount - line_net(qty, price, discount)


def goods_receipt(doc: GoodsReceipt) -> None:
    goods = tax = ZERO
    for line in doc.items:
        line.goods_money = line_net(line.quantities, line.unit_price)
        line.tax_money = vat(line.goods_money, _rate(line))
        goods += line.goods_money
        tax += line.tax_money
    doc.total_goods_money = doc.value_of_inventory = money(goods)
    doc.total_tax_money = money(tax)
    doc.total_money = money(goods + tax)


def delivery_note(doc: GoodsDelivery) -> None:
    sub = off = ZERO
    for line in doc.items:
        line.total_money, line.discount_money = _net(line.quantities, line.unit_price, line.discount)
        line.total_after_discount = line.total_money - line.discount_money
        sub += line.total_money
        off += line.discount_money
    doc.sub_total, doc.total_discount = money(sub), money(off)
    doc.after_discount = money(sub - off)
    doc.total_money = money(doc.after_discount + Decimal(doc.shipping_fee or 0))


def packing_list(doc: PackingList) -> None:
    sub = off = ZERO
    for line in doc.items:
        line.sub_total, line.discount_total = _net(line.quantity, line.unit_price, line.discount)
        line.total_after_discount = line.total_amount = line.sub_total - line.discount_total
        sub += line.sub_total
        off += line.discount_total
    doc.subtotal, doc.discount_total = money(sub), money(off)
    doc.total_after_discount = money(sub - off - Decimal(doc.additional_discount or 0))
    doc.total_amount = money(doc.total_after_discount + Decimal(doc.shipping_fee or 0))


def client_return(doc: OrderReturn) -> None:
    net = gross = ZERO
    for line in doc.items:
        line.sub_total, line.discount_total = _net(line.quantity, line.unit_price, line.discount)
        line.total_after_discount = line.sub_total - line.discount_total
        line.total_amount = line.total_after_discount + vat(line.total_after_discount, _rate(line))
        net += line.total_after_discount
        gross += line.total_amount
    doc.subtotal, doc.total_amount = money(net), money(gross)


RULES = {GoodsReceipt: goods_receipt, GoodsDelivery: delivery_note, PackingList: packing_list,
         OrderReturn: client_return}


@totals.refresh_with(lambda doc: type(doc) in RULES)
def refresh(doc) -> None:
    """The totals of a draft warehouse document from its lines (an approved or rejected one keeps its own)."""
    if doc.approval not in (None, WarehouseApproval.DRAFT.value):
        return
    RULES[type(doc)](doc)
