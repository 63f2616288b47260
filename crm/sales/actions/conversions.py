"""Building a document from another (proposal → sales order / invoice, sales order → invoice).

One place copies what a conversion carries (schema.md, "Behaviour of the core"): every line
with its taxes, the totals and discounts, the client, currency, billing/shipping addresses and
the sale agent. The back link on the source and its status are set by the caller
(proposals.py, estimates.py), which knows what the source is.
"""
from __future__ import annotations

import json
import secrets
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import insert, inspect, select
from sqlalchemy.sql.compiler import InsertmanyvaluesSentinelOpts

from crm.core.totals import refresh
from crm.catalog.reference import active_payment_modes, default_currency_id
from crm.core import numbering, options
from crm.core.extensions import db
from crm.sales.invoice_status import recompute_status
from crm.sales.models.documents import Estimate, Invoice, ItemLine, ItemTax

LINE_FIELDS = ("description", "long_description", "qty", "rate", "unit", "item_order", "item_id", "discount_percent")
TOTAL_FIELDS = ("subtotal", "total_tax", "total", "adjustment", "discount_percent", "discount_total",
                "discount_type")
ADDRESS_PARTS = ("street", "city", "state", "zip", "country")


def copy_lines(source, target) -> None:
    """Append a copy of each of ``source``'s lines (and their taxes) to ``target.items``.

    An optional line the client did not select is not part of the deal and is left out; a
    selected one becomes an ordinary line.
    """
    for line in source.items:
        if line.is_optional and not line.is_selected:
            continue
        target.items.append(ItemLine(**{f: getattr(line, f) for f in LINE_FIELDS},
                                     taxes=[ItemTax(taxname=t.taxname, taxrate=t.taxrate) for t in line.taxes]))


def insert_copied_lines(doc, lines) -> None:
    """Write ``lines`` (transient copies, see :func:`copy_lines`) as ``doc``'s, which is flushed: the
    lines in one statement and their taxes in one more, not one INSERT per line and per tax as the
    unit of work sends them where it cannot batch INSERT ... RETURNING in order (SQLite). ``doc.items``
    is read again from the database when next used."""
    if not lines:
        return
    session, table, taxes = db.session(), ItemLine.__table__, ItemTax.__table__
    rel_type = inspect(doc).mapper.relationships["items"].info["rel_type"]
    rows = [{"rel_id": doc.id, "rel_type": rel_type, **{f: getattr(line, f) for f in LINE_FIELDS},
             "is_optional": False, "is_selected": True, "wh_delivered_quantity": Decimal(0)} for line in lines]
    dialect = session.get_bind().dialect
    if dialect.insert_executemany_returning_sort_by_parameter_order and (
            dialect.insertmanyvalues_implicit_sentinel & InsertmanyvaluesSentinelOpts.ANY_AUTOINCREMENT):
        ids = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars().all()
    else:
        # Each row of an executemany gets a larger id than every row before it (SQLite: the largest
        # rowid plus one; sequences and AUTO_INCREMENT count up), and the document is new: its lines
        # in id order are ``lines`` in order.
        session.execute(insert(table), rows)
        ids = session.scalars(select(table.c.id).where(table.c.rel_id == doc.id, table.c.rel_type == rel_type)
                              .order_by(table.c.id)).all()
    if len(ids) != len(rows):
        raise RuntimeError(f"{len(rows)} lines written for {rel_type} #{doc.id}, {len(ids)} found")
    tax_rows = [{"itemid": line_id, "rel_id": doc.id, "rel_type": rel_type, "taxrate": t.taxrate, "taxname": t.taxname}
                for line_id, line in zip(ids, lines) for t in line.taxes]
    if tax_rows:
        session.execute(insert(taxes), tax_rows)
    session.expire(doc, ["items"])


def _block(obj, street="address", pattern="{}") -> dict | None:
    """One address of ``obj`` (its street column and the parts named by ``pattern``), None when empty."""
    values = {p: getattr(obj, street if p == "street" else pattern.format(p)) for p in ADDRESS_PARTS}
    return values if any(values.values()) else None


def client_addresses(client) -> dict:
    """billing_* / shipping_* a document of ``client`` carries: billing from the client's billing
    address (else its address), shipping from its shipping address, shown when it has one."""
    billing = _block(client, "billing_street", "billing_{}") or _block(client) or {}
    out = {f"billing_{p}": billing.get(p) for p in ADDRESS_PARTS}
    out.update({f"shipping_{p}": getattr(client, f"shipping_{p}") for p in ADDRESS_PARTS})
    out["include_shipping"] = any(getattr(client, f"shipping_{p}") for p in ADDRESS_PARTS)
    return out


def _addresses(source, client) -> dict:
    """billing_* / shipping_* for the new document: an estimate's own; from a proposal, its
    address (else the client's), shipping from the client."""
    if hasattr(source, "billing_street"):
        out = {f"{kind}_{p}": getattr(source, f"{kind}_{p}") for kind in ("billing", "shipping") for p in ADDRESS_PARTS}
        out["include_shipping"] = source.include_shipping
        return out
    out = client_addresses(client)
    if (own := _block(source)) is not None:
        out.update({f"billing_{p}": own[p] for p in ADDRESS_PARTS})
    return out


def due_date(issued: date) -> date:
    """An invoice's due date: ``invoice_due_after`` days after its date."""
    return issued + timedelta(days=int(options.get("invoice_due_after") or 0))


def _converted(model, source, client, actor, lines_apart=False, **fields):
    """A new ``model`` document carrying ``source``'s lines, totals, parties and addresses; with
    ``lines_apart``, (document, its lines) with the lines kept out of the session, for
    :func:`insert_copied_lines` once the document is flushed."""
    doc = model(clientid=client.userid, currency=source.currency or client.default_currency or default_currency_id(),
                sale_agent=getattr(source, "assigned", None) or getattr(source, "sale_agent", None),
                show_quantity_as=source.show_quantity_as, hash=secrets.token_hex(16),
                addedfrom=getattr(actor, "staffid", None), date=date.today(),
                **{f: getattr(source, f) for f in TOTAL_FIELDS}, **_addresses(source, client), **fields)
    if hasattr(source, "terms") and hasattr(doc, "terms"):
        doc.terms = source.terms
    copy_lines(source, doc)
    refresh(doc)  # the copied totals, checked against the copied lines
    if lines_apart:
        lines = list(doc.items)
        doc.items = []  # (still transient: the lines never join the session)
        db.session.add(doc)
        return doc, lines
    db.session.add(doc)
    return doc


def invoice_from(source, client, actor):
    """An issued invoice (numbered, Unpaid, due after ``invoice_due_after`` days) from ``source``."""
    modes = sorted(mode_id for mode_id, _, default in active_payment_modes() if default)
    invoice, lines = _converted(Invoice, source, client, actor, lines_apart=True, status=1,
                                duedate=due_date(date.today()),
                                allowed_payment_modes=json.dumps(modes),
                                clientnote=getattr(source, "clientnote", None))
    numbering.assign(invoice)
    recompute_status(invoice, paid=Decimal(0))  # a new invoice has no payments yet
    db.session.flush()  # the invoice's id, for its lines
    insert_copied_lines(invoice, lines)
    return invoice


def estimate_from(proposal, client, actor, status: int):
    """A numbered sales order from an accepted proposal."""
    days = options.get("estimate_due_after")
    estimate = _converted(Estimate, proposal, client, actor, status=status,
                          expirydate=date.today() + timedelta(days=int(days or 7)))
    numbering.assign(estimate)
    return estimate
