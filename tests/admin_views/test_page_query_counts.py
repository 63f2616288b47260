"""Every document page and the client page run a fixed number of queries: a document with many lines
(and payments) costs what the same document with one costs, a client with many documents and contacts
what a client with few costs. Each document table the document page serves is opened over a demo
record, then again once its lines (and payments) are multiplied."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import inspect

from crm.core.extensions import db
from tests.conftest import QueryCounter, get_alone

MORE = 12


@pytest.fixture
def demo(app, ctx):
    from crm.demo import load

    load()
    db.session.expire_all()


def _document_models():
    from crm.core.pages import is_document
    from crm.core.resources import all_models

    return sorted((m for m in all_models() if is_document(m)), key=lambda m: m.__tablename__)


def _clone(row):
    """A copy of ``row`` (its columns but the primary key), with copies of its own child rows (a line's
    taxes), added to the session."""
    mapper = inspect(type(row))
    with db.session.no_autoflush:  # a half-made copy is not flushed while its children are read
        new = type(row)(**{a.key: getattr(row, a.key) for a in mapper.column_attrs
                           if not any(c.primary_key for c in a.columns)})
        for rel in mapper.relationships:
            if rel.uselist and rel.cascade.delete_orphan and rel.direction.name == "ONETOMANY":
                setattr(new, rel.key, [_clone(child) for child in getattr(row, rel.key)])
    db.session.add(new)
    return new


def _queries(client, engine, url) -> tuple[int, str]:
    """The queries of one request for ``url``, once what a commit makes the app reload (its cached
    options, the signed-in staff member) is loaded again by a first request."""
    get_alone(client, url)
    with QueryCounter(engine) as qc:
        resp = get_alone(client, url)
    assert resp.status_code == 200, url
    return qc.count, resp.get_data(as_text=True)


def test_document_pages_do_not_run_a_query_per_line_or_payment(demo, admin_client):
    from crm.core.resources import primary_key, resource_of

    engine = db.engine
    checked = []
    for model in _document_models():
        res = resource_of(model)
        pk = primary_key(model)
        docs = db.session.query(model).order_by(getattr(model, pk)).all()
        lines = res.lines
        doc = next((d for d in docs if lines and getattr(d, lines)), docs[0] if docs else None)
        if doc is None:
            continue
        doc_id = getattr(doc, pk)
        url = f"/admin/{res.url}/details/?id={doc_id}"
        before, _ = _queries(admin_client, engine, url)
        many = []
        if lines and getattr(doc, lines):
            many.append(lines)
            first = getattr(doc, lines)[0]
            getattr(doc, lines).extend(_clone(first) for _ in range(MORE))
        if res.payments and getattr(doc, res.payments):
            many.append(res.payments)
            getattr(doc, res.payments).extend(_clone(getattr(doc, res.payments)[0]) for _ in range(MORE))
        db.session.commit()
        after, html = _queries(admin_client, engine, url)
        if lines:
            assert html.count('data-testid="line"') == len(getattr(doc, lines)), model.__tablename__
        assert after == before, (model.__tablename__, many, before, after)
        checked.append(model.__tablename__)
    assert {"tblinvoices", "tblproposals", "tblestimates", "tblcontracts", "tblpur_orders", "tblpur_invoices",
            "tblgoods_receipt", "tblgoods_delivery", "tblwh_packing_lists",
            "tblwh_physical_inventory", "tblpur_request", "tblpur_estimates"} <= set(checked), checked


def test_client_page_does_not_run_a_query_per_contact_or_document(demo, admin_client):
    from crm.sales.models.clients import Client, Contact
    from crm.sales.models.documents import Estimate, Invoice, InvoicePayment, ItemLine, ItemTax, Proposal

    engine = db.engine
    client = db.session.query(Client).join(Invoice, Invoice.clientid == Client.userid).first()
    cid = client.userid
    url = f"/admin/clients/details/?id={cid}"
    before, _ = _queries(admin_client, engine, url)
    today = date.today()
    for i in range(MORE):
        db.session.add(Contact(userid=cid, firstname=f"Extra{i}", lastname="Contact", email=f"extra{i}@client.ro"))
        inv = Invoice(clientid=cid, date=today, duedate=today - timedelta(days=3), status=4 if i % 2 else 3,
                      formatted_number=f"INV-Q{i:03d}", number=900 + i, prefix="INV-", total=Decimal("100.00"),
                      subtotal=Decimal("100.00"))
        inv.items.append(ItemLine(description="Extra", qty=Decimal(1), rate=Decimal(100), item_order=1,
                                  taxes=[ItemTax(taxname="TVA 21%", taxrate=Decimal(21))]))
        db.session.add(inv)
        db.session.flush()
        db.session.add(InvoicePayment(invoiceid=inv.id, amount=Decimal("10.00"), paymentmode="1", date=today))
        db.session.add(Estimate(clientid=cid, date=today, status=2, formatted_number=f"EST-Q{i:03d}", number=900 + i,
                                total=Decimal("50.00")))
        db.session.add(Proposal(subject=f"Extra {i}", rel_type="customer", rel_id=cid, date=today, status=4,
                                formatted_number=f"PRO-Q{i:03d}", number=900 + i, total=Decimal("70.00")))
    db.session.commit()
    after, html = _queries(admin_client, engine, url)
    assert "Extra11" in html and "INV-Q011" in html
    assert after == before, (before, after)


def test_document_page_does_not_run_a_query_per_related_document(demo, admin_client):
    from crm.purchasing.models import PurchaseOrder, VendorInvoice
    from crm.warehouse.models import GoodsReceipt

    engine = db.engine
    order = db.session.query(PurchaseOrder).join(VendorInvoice, VendorInvoice.pur_order == PurchaseOrder.id).first()
    url = f"/admin/purchase/purchase_order/details/?id={order.id}"
    before, html = _queries(admin_client, engine, url)
    bill = db.session.query(VendorInvoice).filter_by(pur_order=order.id).first()
    receipt = db.session.query(GoodsReceipt).filter_by(pr_order_id=order.id).first()
    for i in range(MORE):
        copy = _clone(bill)
        copy.invoice_number = f"VI-Q{i:03d}"
        if receipt is not None:
            _clone(receipt).goods_receipt_code = f"NK-Q{i:03d}"
    db.session.commit()
    after, html = _queries(admin_client, engine, url)
    assert "VI-Q011" in html or html.count("VI-Q") >= 5
    assert after == before, (before, after)
