"""Goods receipts, delivery notes and the stock ledger, through grid buttons and the API."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.conftest import api_token
from tests.sales.test_sales_support import api, press, set_option
from tests.warehouse.warehouse_support import (
    TODAY,
    client,
    invoice,
    item,
    ledger_matches_balances,
    lots,
    on_hand,
    purchase_order,
    receipt,
    vendor,
    warehouse,
)

D = Decimal


@pytest.fixture
def wh(app):
    with app.app_context():
        return warehouse()


def test_po_to_goods_receipt_by_grid_button_then_partial_and_full_delivery(app, admin_client, wh):
    from crm.purchasing.models import PurchaseOrder
    from crm.warehouse.models import GoodsReceipt, GoodsReceiptDetail, StockTransaction

    with app.app_context():
        a, b = item("A-1", "Gloves"), item("B-1", "Boots")
        po_id = purchase_order(vendor(), [(a, "10", "5.00"), (b, "4", "20.00")])
    html = press(admin_client, "purchase/purchase_order", "create_goods_receipt", po_id).get_data(as_text=True)
    assert "Goods receipt NK000001 created" in html
    with app.app_context():
        gr = db.session.query(GoodsReceipt).one()
        assert gr.pr_order_id == po_id and [(ln.commodity_code, ln.quantities) for ln in gr.items] == [(a, 10), (b, 4)]
        # receive only part of the boots on this receipt
        gr.items[1].quantities = D("3")
        gr.items[0].lot_number, gr.items[0].expiry_date = "LOT-G1", TODAY + timedelta(days=90)
        db.session.commit()
        gr_id = gr.id
    html = press(admin_client, "warehouse/manage_purchase", "approve", gr_id).get_data(as_text=True)
    assert "Goods receipt NK000001 approved, 2 line(s) in stock" in html
    with app.app_context():
        assert on_hand(a) == 10 and on_hand(b) == 3
        po = db.session.get(PurchaseOrder, po_id)
        assert po.delivery_status == 3  # partially delivered
        assert [ln.wh_quantity_received for ln in po.items] == [10, 3]
        led = db.session.query(StockTransaction).order_by(StockTransaction.id).all()
        assert [(t.status, t.quantity, t.old_quantity, t.lot_number) for t in led] == [
            (1, 10, 0, "LOT-G1"), (1, 3, 0, None)]
    # a second receipt from the PO copies only what is not yet received
    r = api(admin_client, api_token(admin_client), "pur_orders", po_id, "create_goods_receipt")
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        second = db.session.query(GoodsReceipt).order_by(GoodsReceipt.id.desc()).first()
        assert [(ln.commodity_code, ln.quantities) for ln in second.items] == [(b, 1)]
        second_id = second.id
    r = api(admin_client, api_token(admin_client), "pur_orders", po_id, "create_goods_receipt")
    assert r.status_code == 409 and "already received or on a draft goods receipt" in r.get_json()["error"]
    r = api(admin_client, api_token(admin_client), "goods_receipt", second_id, "approve")
    assert r.status_code == 200
    with app.app_context():
        assert db.session.get(PurchaseOrder, po_id).delivery_status == 1  # delivered
        assert db.session.query(GoodsReceiptDetail).count() == 3
        ledger_matches_balances()
    r = api(admin_client, api_token(admin_client), "goods_receipt", second_id, "approve")
    assert r.status_code == 409 and "is Approved, not a draft" in r.get_json()["error"]


def test_delivery_note_from_invoice_is_checked_refused_when_short_and_fifo(app, admin_client, wh):
    from crm.sales.models.documents import ItemLine
    from crm.warehouse.models import GoodsDelivery, StockTransaction

    with app.app_context():
        a, svc = item("A-1", "Gloves"), None
        receipt(wh, [(a, "4", "L1", TODAY + timedelta(days=30), "5.00")], approve=True)
        receipt(wh, [(a, "4", "L2", TODAY + timedelta(days=10), "6.00")], approve=True)
        inv = invoice(client(), [(a, "Gloves", "10", "9.00"), (svc, "Installation", "1", "50.00")])
    headers = api_token(admin_client)
    r = api(admin_client, headers, "invoices", inv, "create_delivery_note")
    assert r.status_code == 200, r.get_json()
    assert "Delivery note XK000001 created; not enough stock: Gloves needs 10, 8 available" in r.get_json()["message"]
    with app.app_context():
        note = db.session.query(GoodsDelivery).one()
        assert note.flag_export_warehouse == 0 and note.invoice_id == inv
        assert [(ln.commodity_code, ln.quantities, ln.available_quantity) for ln in note.items] == [(a, 10, 8)]
        note_id = note.id
    html = press(admin_client, "warehouse/manage_delivery", "approve", note_id).get_data(as_text=True)
    assert "Not enough stock to approve Delivery note XK000001: Gloves in Main warehouse: needed 10, available 8." in html
    with app.app_context():
        assert on_hand(a) == 8 and db.session.get(GoodsDelivery, note_id).approval == 0
    # editing the line through the API re-runs the stock check
    r = admin_client.patch(f"/api/v1/goods_delivery/{note_id}", headers=headers, json={"items": [
        {"commodity_code": a, "quantities": "6", "warehouse_id": wh, "itemable_id": _invoice_line(app, a)}]})
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        assert db.session.get(GoodsDelivery, note_id).flag_export_warehouse == 1
    r = api(admin_client, headers, "goods_delivery", note_id, "approve")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["message"] == "Delivery note XK000001 approved (partial: the rest goes on a later note)"
    with app.app_context():
        note = db.session.get(GoodsDelivery, note_id)
        assert note.approval == 1 and note.type_of_delivery == "partial"
        assert note.items[0].lot_number == "L1,4,L2,2"  # FIFO: the first receipt first
        assert note.items[0].expiry_date == TODAY + timedelta(days=10)
        assert lots(a) == {"L1": 0, "L2": 2}
        moves = db.session.query(StockTransaction).filter_by(status=2).order_by(StockTransaction.id).all()
        assert [(t.lot_number, t.quantity, t.old_quantity) for t in moves] == [("L1", -4, 4), ("L2", -2, 4)]
        assert db.session.query(ItemLine).filter_by(item_id=a).one().wh_delivered_quantity == 6
        ledger_matches_balances()
        receipt(wh, [(a, "4", "L3", None, "5.00")], approve=True)
    # the rest goes on a second note, which completes the invoice
    r = api(admin_client, headers, "invoices", inv, "create_delivery_note")
    assert r.get_json()["message"] == "Delivery note XK000002 created"
    with app.app_context():
        second = db.session.query(GoodsDelivery).order_by(GoodsDelivery.id.desc()).first()
        assert [ln.quantities for ln in second.items] == [4]
    r = api(admin_client, headers, "goods_delivery", second.id, "approve")
    assert r.get_json()["message"] == "Delivery note XK000002 approved"
    with app.app_context():
        assert db.session.get(GoodsDelivery, second.id).type_of_delivery == "total"
        assert on_hand(a) == 2
    r = api(admin_client, headers, "invoices", inv, "create_delivery_note")
    assert r.status_code == 409 and "already on a delivery note" in r.get_json()["error"]


def _invoice_line(app, item_id):
    from crm.sales.models.documents import ItemLine

    with app.app_context():
        return db.session.query(ItemLine.id).filter_by(item_id=item_id).scalar()


def test_fefo_takes_the_earliest_expiry_and_never_an_expired_lot(app, admin_client, wh):
    from crm.warehouse.models import GoodsDelivery

    with app.app_context():
        a = item("M-1", "Milk")
        receipt(wh, [(a, "5", "OLD", TODAY - timedelta(days=1), "1.00")], approve=True)   # expired
        receipt(wh, [(a, "5", "LATE", TODAY + timedelta(days=60), "1.00")], approve=True)
        receipt(wh, [(a, "5", "SOON", TODAY + timedelta(days=5), "1.00")], approve=True)
        inv = invoice(client(), [(a, "Milk", "8", "2.00")])
    set_option(app, "warehouse_consume_fefo", True)
    headers = api_token(admin_client)
    assert api(admin_client, headers, "invoices", inv, "create_delivery_note").status_code == 200
    with app.app_context():
        note_id = db.session.query(GoodsDelivery.id).scalar()
    r = api(admin_client, headers, "goods_delivery", note_id, "approve")
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        line = db.session.get(GoodsDelivery, note_id).items[0]
        assert line.lot_number == "SOON,5,LATE,3" and line.expiry_date == TODAY + timedelta(days=5)
        assert lots(a) == {"OLD": 5, "SOON": 0, "LATE": 2}
        inv2 = invoice(client(), [(a, "Milk", "3", "2.00")], number=2)
    # 2 deliverable left (the expired 5 do not count): refused, naming what is there
    api(admin_client, headers, "invoices", inv2, "create_delivery_note")
    with app.app_context():
        note2 = db.session.query(GoodsDelivery).order_by(GoodsDelivery.id.desc()).first()
        assert note2.flag_export_warehouse == 0
    r = api(admin_client, headers, "goods_delivery", note2.id, "approve")
    assert r.status_code == 409 and "Milk in Main warehouse: needed 3, available 2" in r.get_json()["error"]


def test_lot_and_expiry_required_by_option_with_field_named_errors(app, admin_client, wh):
    with app.app_context():
        a = item()
        gr = receipt(wh, [(a, "2", None, None, "1.00"), (a, "1", "L9", None, "1.00")])
    set_option(app, "goods_receipt_require_lot_expiry", True)
    r = api(admin_client, api_token(admin_client), "goods_receipt", gr, "approve")
    body = r.get_json()
    assert r.status_code == 422 and body["field"] == "items[1].lot_number"
    assert "line 1 (P-100 Pallet jack): the lot number is required." in body["error"]
    with app.app_context():
        assert on_hand(a) == 0
    html = press(admin_client, "warehouse/manage_purchase", "approve", gr).get_data(as_text=True)
    assert "line 2 (P-100 Pallet jack): the expiry date is required." in html


def test_auto_created_documents_and_cancelled_invoice_restores_stock(app, admin_client, wh):
    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.purchasing.models import PurchaseOrder
    from crm.sales.models.documents import Invoice
    from crm.warehouse.models import GoodsDelivery, GoodsReceipt, StockTransaction

    set_option(app, "auto_create_goods_received", True)
    set_option(app, "auto_create_goods_delivery", True)
    set_option(app, "cancelled_invoice_reverse_inventory", True)
    set_option(app, "default_warehouse_id", wh)
    with app.app_context():
        a = item()
        po_id = purchase_order(vendor(), [(a, "5", "50.00")], status=1)
        po = db.session.get(PurchaseOrder, po_id)
        po.status = 2  # approval fires purchase_order.approved
        db.session.commit()
        gr = db.session.query(GoodsReceipt).one()
        assert gr.pr_order_id == po_id and gr.items[0].quantities == 5 and gr.warehouse_id == wh
        admin = db.session.query(Staff).filter_by(admin=True).first()
        run(GoodsReceipt, gr.id, "approve", admin)
        inv = invoice(client(), [(a, "Pallet jack", "3", "100.00")])
        note = db.session.query(GoodsDelivery).one()  # made with the invoice
        assert note.invoice_id == inv and note.flag_export_warehouse == 1
        note_id = note.id
        run(GoodsDelivery, note_id, "approve", admin)
        assert on_hand(a) == 2
    r = api(admin_client, api_token(admin_client), "invoices", inv, "mark_cancelled")
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        assert on_hand(a) == 5
        assert db.session.get(GoodsDelivery, note_id).delivery_status == "returned"
        back = db.session.query(StockTransaction).filter_by(status=5).one()
        assert back.quantity == 3 and back.old_quantity == 2 and "cancelled" in back.note
        assert db.session.get(Invoice, inv).status == 5
        ledger_matches_balances()


def test_cancelled_invoice_keeps_stock_out_by_default(app, wh):
    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.sales.models.documents import Invoice
    from crm.warehouse.models import GoodsDelivery

    with app.app_context():
        a = item()
        receipt(wh, [(a, "5", None, None, "1.00")], approve=True)
        inv = invoice(client(), [(a, "Pallet jack", "2", "100.00")])
        admin = db.session.query(Staff).filter_by(admin=True).first()
        run(Invoice, inv, "create_delivery_note", admin)
        run(GoodsDelivery, db.session.query(GoodsDelivery.id).scalar(), "approve", admin)
        run(Invoice, inv, "mark_cancelled", admin)
        assert on_hand(a) == 3


def test_receipt_recheck_notifies_the_owner_of_a_waiting_note(app, wh):
    from crm.core.models.messaging import EmailOutbox
    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.sales.models.documents import Invoice
    from crm.warehouse.models import GoodsDelivery

    with app.app_context():
        a = item()
        inv = invoice(client(), [(a, "Pallet jack", "2", "100.00")])
        admin = db.session.query(Staff).filter_by(admin=True).first()
        run(Invoice, inv, "create_delivery_note", admin)
        note = db.session.query(GoodsDelivery).one()
        assert note.flag_export_warehouse == 0
        gr = receipt(wh, [(a, "2", None, None, "1.00")])
        from crm.warehouse.models import GoodsReceipt

        msg = run(GoodsReceipt, gr, "approve", admin)
        assert "ready to deliver now: Delivery note XK000001" in msg
        db.session.expire_all()
        assert db.session.get(GoodsDelivery, note.id).flag_export_warehouse == 1
        mail = db.session.query(EmailOutbox).one()
        assert mail.to_email == admin.email and "XK000001 can now be approved" in mail.subject


def test_item_page_and_history_screens(app, admin_client, wh):
    with app.app_context():
        a = item()
        receipt(wh, [(a, "7", "LOT-A", TODAY + timedelta(days=40), "3.00")], approve=True)
    page = admin_client.get(f"/admin/warehouse/commodity_list/details/?id={a}").get_data(as_text=True)
    assert "LOT-A" in page and "Main warehouse" in page and (TODAY + timedelta(days=40)).isoformat() in page
    hist = admin_client.get(f"/admin/warehouse/warehouse_history/?commodity_id={a}&status=1")
    assert hist.status_code == 200 and "LOT-A" in hist.get_data(as_text=True)
    export = admin_client.get("/admin/warehouse/warehouse_history/export/csv/")
    assert export.status_code == 200 and "LOT-A" in export.get_data(as_text=True)


def test_delivery_note_pdf_lists_products_quantities_and_lots(app, admin_client, wh):
    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.sales.models.documents import Invoice
    from crm.warehouse.models import GoodsDelivery

    with app.app_context():
        a = item()
        receipt(wh, [(a, "2", "LOT-X", TODAY + timedelta(days=9), "1.00")], approve=True)
        receipt(wh, [(a, "5", "LOT-Y", None, "1.00")], approve=True)
        inv = invoice(client(), [(a, "Pallet jack", "4", "100.00")])
        admin = db.session.query(Staff).filter_by(admin=True).first()
        run(Invoice, inv, "create_delivery_note", admin)
        note_id = db.session.query(GoodsDelivery.id).scalar()
        run(GoodsDelivery, note_id, "approve", admin)
    resp = admin_client.get(f"/admin/documents/delivery_note/{note_id}.pdf")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    assert 'filename="XK000001.pdf"' in resp.headers["Content-Disposition"]
    from tests.core.test_pdf_documents import pdf_text

    text = " ".join(pdf_text(resp.data).split())
    assert "Delivery note" in text and "XK000001" in text and "INV-000001" in text
    assert "LOT-X, 2 · LOT-Y, 2" in text and "Pallet jack" in text


def test_warehouse_role_receives_and_delivers_but_a_sales_agent_cannot_approve(app, wh):
    from tests.conftest import make_staff

    with app.app_context():
        a = item()
        po_id = purchase_order(vendor(), [(a, "3", "5.00")])
        make_staff("store@test.example", "Warehouse")
        seller_id = make_staff("seller@test.example", "Sales Agent").staffid
    store = app.test_client()
    h = api_token(store, "store@test.example", "pass-1234")
    assert api(store, h, "pur_orders", po_id, "create_goods_receipt").status_code == 200
    with app.app_context():
        from crm.warehouse.models import GoodsReceipt

        gr = db.session.query(GoodsReceipt.id).scalar()
    assert api(store, h, "goods_receipt", gr, "approve").status_code == 200
    seller = app.test_client()
    hs = api_token(seller, "seller@test.example", "pass-1234")
    with app.app_context():
        inv = invoice(client(), [(a, "Pallet jack", "1", "100.00")])
        from crm.sales.models.documents import Invoice

        db.session.get(Invoice, inv).sale_agent = seller_id  # their sale: a view-own agent acts on it
        db.session.commit()
    assert api(seller, hs, "invoices", inv, "create_delivery_note").status_code == 200
    with app.app_context():
        from crm.warehouse.models import GoodsDelivery

        note = db.session.query(GoodsDelivery.id).scalar()
    r = api(seller, hs, "goods_delivery", note, "approve")
    assert r.status_code == 403 and "action:goods_delivery.approve" in r.get_json()["error"]
    assert api(store, h, "goods_delivery", note, "approve").status_code == 200
    with app.app_context():
        assert on_hand(a) == 2


def test_backorder_rfq_for_exactly_the_shortfall_linked_to_order_invoice_and_note(app, admin_client, wh):
    from crm.purchasing.models import PurchaseRequest
    from crm.sales.models.documents import Estimate
    from crm.warehouse.models import GoodsDelivery

    with app.app_context():
        a, b = item("A-1", "Gloves"), item("B-1", "Boots")
        receipt(wh, [(a, "3", None, None, "1.00"), (b, "9", None, None, "1.00")], approve=True)
        buyer = client()
        inv = invoice(buyer, [(a, "Gloves", "5", "9.00"), (b, "Boots", "2", "30.00")])
        est = Estimate(clientid=buyer, date=TODAY, status=4, invoiceid=inv, number=1, formatted_number="EST-000001")
        db.session.add(est)
        db.session.commit()
        est_id = est.id
    headers = api_token(admin_client)
    api(admin_client, headers, "invoices", inv, "create_delivery_note")
    with app.app_context():
        note_id = db.session.query(GoodsDelivery.id).scalar()
    html = press(admin_client, "warehouse/manage_delivery", "create_backorder_rfq", note_id).get_data(as_text=True)
    assert "Request for quotation #PR000001 created for the shortfall: A-1 Gloves x 2" in html
    with app.app_context():
        rfq = db.session.query(PurchaseRequest).one()
        assert (rfq.goods_delivery_id, rfq.sale_invoice, rfq.sale_estimate) == (note_id, inv, est_id)
        assert [(ln.item_code, ln.quantity, ln.inventory_quantity) for ln in rfq.items] == [(a, 2, 3)]
    r = api(admin_client, headers, "goods_delivery", note_id, "create_backorder_rfq")
    assert r.status_code == 409 and "already has an open request for quotation, #PR000001" in r.get_json()["error"]


def test_a_backorder_carries_tax_and_currency_to_its_quotation_and_purchase_order(app, admin_client, wh):
    from crm.catalog.models import Currency, Item, Tax
    from crm.purchasing.models import PurchaseRequest
    from crm.warehouse.models import GoodsDelivery

    with app.app_context():
        ron, vat = Currency(name="RON", symbol="lei", isdefault=True), Tax(name="TVA", taxrate=D("21.00"))
        db.session.add_all([ron, vat])
        db.session.commit()
        a = item("A-1", "Gloves")  # purchase price 60.00
        db.session.get(Item, a).tax = vat.id
        db.session.commit()
        inv = invoice(client(), [(a, "Gloves", "2", "90.00")])
        supplier, ron_id = vendor(), ron.id
    h = api_token(admin_client)
    api(admin_client, h, "invoices", inv, "create_delivery_note")
    with app.app_context():
        note_id = db.session.query(GoodsDelivery.id).scalar()
    assert api(admin_client, h, "goods_delivery", note_id, "create_backorder_rfq").status_code == 200
    with app.app_context():
        rfq = db.session.query(PurchaseRequest.id).scalar()
    body = admin_client.get(f"/api/v1/pur_request/{rfq}", headers=h).get_json()
    assert (body["currency"], body["subtotal"], body["total_tax"], body["total"]) == (ron_id, "120.00", "25.20", "145.20")
    assert api(admin_client, h, "pur_request", rfq, "approve").status_code == 200
    assert api(admin_client, h, "pur_request", rfq, "request_quotations", vendors=[supplier]).status_code == 200
    quote = admin_client.get(f"/api/v1/pur_estimates?pur_request={rfq}", headers=h).get_json()
    quote = quote[0] if isinstance(quote, list) else quote["items"][0]
    assert (quote["currency"], quote["total_tax"], quote["total"]) == (ron_id, "25.20", "145.20")
    assert api(admin_client, h, "pur_estimates", quote["id"], "accept").status_code == 200
    r = api(admin_client, h, "pur_estimates", quote["id"], "create_purchase_order")
    assert r.status_code == 200, r.get_json()
    orders = admin_client.get("/api/v1/pur_orders", headers=h).get_json()
    po = orders[0] if isinstance(orders, list) else orders["items"][0]
    assert (po["currency"], po["total_tax"], po["total"]) == (ron_id, "25.20", "145.20")


def test_a_draft_note_short_of_stock_says_it_waits_for_stock(app, admin_client, wh):
    from crm.warehouse.models import GoodsDelivery

    with app.app_context():
        a = item()
        inv = invoice(client(), [(a, "Pallet jack", "3", "100.00")])
    h = api_token(admin_client)
    api(admin_client, h, "invoices", inv, "create_delivery_note")
    with app.app_context():
        note_id = db.session.query(GoodsDelivery.id).scalar()

    def seen():
        grid = admin_client.get(f"/admin/warehouse/manage_delivery/details/?id={note_id}").get_data(as_text=True)
        label = admin_client.get(f"/api/v1/goods_delivery/{note_id}", headers=h).get_json()["delivery_status_label"]
        return grid, label

    grid, label = seen()
    assert label == "Waiting for stock" and ">Waiting for stock<" in grid and "Ready for packing" not in grid
    with app.app_context():
        receipt(wh, [(a, "5", None, None, "60.00")], approve=True)  # the goods arrive: the note is checked again
    grid, label = seen()
    assert label == "Ready for packing" and ">Ready for packing<" in grid


def test_a_line_drawing_on_more_lots_than_the_first_batch(app, wh):
    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.sales.models.documents import Invoice
    from crm.warehouse.actions import stock
    from crm.warehouse.models import GoodsDelivery

    with app.app_context():
        a = item()
        for n in range(stock.BATCH + 3):
            receipt(wh, [(a, "1", f"L{n:02d}", None, "1.00")], approve=True)
        inv = invoice(client(), [(a, "Pallet jack", str(stock.BATCH + 2), "100.00")])
        admin = db.session.query(Staff).filter_by(admin=True).first()
        run(Invoice, inv, "create_delivery_note", admin)
        note_id = db.session.query(GoodsDelivery.id).scalar()
        run(GoodsDelivery, note_id, "approve", admin)
        assert on_hand(a) == 1 and lots(a)[f"L{stock.BATCH + 2:02d}"] == 1
        assert db.session.get(GoodsDelivery, note_id).items[0].lot_number.startswith("L00,1,L01,1,")
        ledger_matches_balances()


def test_auto_backorder_option(app, admin_client, wh):
    from crm.purchasing.models import PurchaseRequest

    with app.app_context():
        a = item()
        inv = invoice(client(), [(a, "Pallet jack", "3", "100.00")])
    set_option(app, "warehouse_backorder_auto", True)
    r = api(admin_client, api_token(admin_client), "invoices", inv, "create_delivery_note")
    assert "Request for quotation #PR000001 created for the shortfall: P-100 Pallet jack x 3" in r.get_json()["message"]
    with app.app_context():
        rfq = db.session.query(PurchaseRequest).one()
        assert rfq.sale_invoice == inv and rfq.items[0].quantity == 3


def test_approval_statements_do_not_grow_with_the_lines_and_lots_of_the_note(app, wh):
    """Approving a delivery note made from an invoice takes as many SQL statements for 1 line
    drawing on 1 lot as for 6 lines drawing on 3 lots each: lots locked, balances, ledger rows,
    the lines' lots and the invoice lines each read or written in one statement."""
    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.sales.models.documents import Invoice, ItemLine
    from crm.warehouse.models import GoodsDelivery
    from tests.conftest import QueryCounter

    def approval_statements(n_lines, n_lots):
        with app.app_context():
            items = [item(f"S-{n_lines}-{i}", f"Part {n_lines}-{i}") for i in range(n_lines)]
            receipt(wh, [(it, "1", f"L{k}", None, "1.00") for it in items for k in range(n_lots)], approve=True)
            inv = invoice(client(), [(it, f"Part {it}", str(n_lots), "10.00") for it in items], number=n_lines)
            admin_id = db.session.query(Staff.staffid).filter_by(admin=True).scalar()
            run(Invoice, inv, "create_delivery_note", db.session.get(Staff, admin_id))
            note_id = db.session.query(GoodsDelivery.id).filter_by(invoice_id=inv).scalar()
            db.session.remove()  # as a new request: nothing in the session
            actor = db.session.get(Staff, admin_id)
            with QueryCounter(db.engine) as counted:
                run(GoodsDelivery, note_id, "approve", actor)
            db.session.remove()
            note = db.session.get(GoodsDelivery, note_id)
            assert [ln.lot_number for ln in note.items] == [",".join(f"L{k},1" for k in range(n_lots))] * n_lines
            assert {il.wh_delivered_quantity for il in db.session.query(ItemLine).filter_by(rel_id=inv, rel_type="invoice")} == {n_lots}
            assert all(on_hand(it) == 0 for it in items)
            ledger_matches_balances()
            return counted.count

    assert approval_statements(1, 1) == approval_statements(6, 3)


def test_an_approval_that_moves_stock_is_changed_only_by_its_action(app, admin_client, wh):
    """Marking a delivery note Approved by editing it (the API, the grid's form) would say the goods
    left while the stock stays: the field is refused there, naming the actions; the approve button
    is the way, and it moves the stock."""
    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.sales.models.documents import Invoice
    from crm.warehouse.models import GoodsDelivery, GoodsReceipt

    with app.app_context():
        a = item("A-1", "Gloves")
        receipt(wh, [(a, "5", "L1", None, "5.00")], approve=True)
        inv = invoice(client(), [(a, "Gloves", "2", "9.00")])
        run(Invoice, inv, "create_delivery_note", db.session.query(Staff).filter_by(admin=True).first())
        note = db.session.query(GoodsDelivery.id).scalar()
    headers = api_token(admin_client)
    r = admin_client.patch(f"/api/v1/goods_delivery/{note}", headers=headers, json={"approval": 1})
    assert r.status_code == 422
    assert r.get_json()["field"] == "approval" and "approve" in r.get_json()["error"]
    # sent back as read, with another change: accepted
    record = admin_client.get(f"/api/v1/goods_delivery/{note}", headers=headers).get_json()
    r = admin_client.patch(f"/api/v1/goods_delivery/{note}", headers=headers,
                           json={"approval": record["approval"], "description": "Gloves for the site"})
    assert r.status_code == 200, r.get_json()
    r = admin_client.post("/api/v1/goods_receipt", headers=headers, json={"warehouse_id": wh, "approval": 1})
    assert r.status_code == 422 and r.get_json()["field"] == "approval"
    with app.app_context():
        assert on_hand(a) == 5 and db.session.get(GoodsDelivery, note).approval == 0
        assert db.session.query(GoodsReceipt).count() == 1
    form = admin_client.get(f"/admin/warehouse/manage_delivery/edit/?id={note}").get_data(as_text=True)
    assert 'name="description"' in form and 'name="approval"' not in form
    r = api(admin_client, headers, "goods_delivery", note, "approve")
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        assert on_hand(a) == 3 and db.session.get(GoodsDelivery, note).approval == 1


def test_a_receipt_skips_a_waiting_note_another_transaction_holds(app, wh):
    """Stock coming in re-checks the draft notes waiting for it, but a note another transaction
    holds (being approved: it may be waiting for the very lots this receipt changed) is skipped,
    not waited for: the two would deadlock. Real concurrent sessions (PostgreSQL, MariaDB)."""
    import threading

    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.sales.models.documents import Invoice
    from crm.warehouse.models import GoodsDelivery, GoodsReceipt

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            pytest.skip("SQLite has one writer at a time: no two transactions hold rows at once")
        a = item()
        inv = invoice(client(), [(a, "Pallet jack", "2", "100.00")])
        admin_id = db.session.query(Staff.staffid).filter_by(admin=True).scalar()
        run(Invoice, inv, "create_delivery_note", db.session.get(Staff, admin_id))
        note_id = db.session.query(GoodsDelivery.id).scalar()
        gr = receipt(wh, [(a, "2", None, None, "1.00")])
        db.session.commit()

    held, done, answer = threading.Event(), threading.Event(), {}

    def hold_the_note():
        with app.app_context():
            db.session.get(GoodsDelivery, note_id, with_for_update=True)
            held.set()
            done.wait(30)
            db.session.rollback()
            db.session.remove()

    holder = threading.Thread(target=hold_the_note)
    holder.start()
    try:
        assert held.wait(30)
        with app.app_context():
            answer["message"] = run(GoodsReceipt, gr, "approve", db.session.get(Staff, admin_id))
    finally:
        done.set()
        holder.join(30)
    assert "Delivery note" not in answer["message"]  # skipped: not re-checked, not announced
    with app.app_context():
        assert db.session.get(GoodsReceipt, gr).approval == 1
        assert db.session.get(GoodsDelivery, note_id).flag_export_warehouse == 0


def test_an_approved_receipt_keeps_its_lines_at_every_door(app):
    """Its goods are in stock as its lines say: a generic door neither replaces its lines nor
    deletes it (the ledger rows name them); its description may still change."""
    from crm.warehouse.models import GoodsReceipt
    from tests.conftest import csrf_from, login
    from tests.warehouse import warehouse_support as ws

    with app.app_context():  # each request below in its own session, as on a server
        wh, jack = ws.warehouse(), ws.item("P-100", "Pallet jack")
        ws.receipt(wh, [(jack, "5", None, None, "10.00")], approve=True)
        rid = db.session.query(GoodsReceipt.id).scalar()
    client = app.test_client()
    h = api_token(client)
    r = client.patch(f"/api/v1/goods_receipt/{rid}", headers=h,
                     json={"items": [{"commodity_code": jack, "quantities": "500", "unit_price": "10"}]})
    assert r.status_code == 422 and r.get_json()["field"] == "items" and "Approved" in r.get_json()["error"], r.get_json()
    r = client.patch(f"/api/v1/goods_receipt/{rid}", headers=h, json={"warehouse_id": None})
    assert r.status_code == 422 and r.get_json()["field"] == "warehouse_id", r.get_json()
    r = client.delete(f"/api/v1/goods_receipt/{rid}", headers=h)
    assert r.status_code == 409 and "Approved" in r.get_json()["error"], r.get_json()
    assert client.patch(f"/api/v1/goods_receipt/{rid}", headers=h, json={"description": "Dock 2"}).status_code == 200
    admin = app.test_client()
    login(admin)
    token = csrf_from(admin.get("/admin/warehouse/manage_purchase/").get_data(as_text=True))
    admin.post("/admin/warehouse/manage_purchase/delete/", data={"csrf_token": token, "id": str(rid)})
    with app.app_context():
        receipt = db.session.get(GoodsReceipt, rid)
        assert receipt is not None and [(ln.quantities, ln.warehouse_id) for ln in receipt.items] == [(Decimal("5.000"), wh)]
        assert receipt.warehouse_id == wh and receipt.description == "Dock 2" and ws.on_hand(jack) == Decimal("5")
        ws.ledger_matches_balances()
