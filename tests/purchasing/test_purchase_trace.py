"""Traceability: from any document of the cycle, the whole chain, as a page and through the API."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.conftest import api_token, login, make_staff
from tests.sales.test_sales_support import base_data, make_client, make_estimate, make_invoice


@pytest.fixture
def chain(app):
    """Sales order → invoice → payment, delivery note → packing list → AWB; and the backorder
    RFQ (linked to the sales order) → two quotations → PO → goods receipt → vendor invoice → payment."""
    from crm.purchasing.models import (
        PurchaseOrder,
        PurchaseQuotation,
        PurchaseRequest,
        Vendor,
        VendorInvoice,
        VendorPayment,
    )
    from crm.sales.models.documents import InvoicePayment
    from crm.warehouse.models import GoodsDelivery, GoodsReceipt, PackingList, Shipment

    with app.app_context():
        ids = base_data()
        client = make_client()
        est = make_estimate(ids, client, status=4)
        inv = make_invoice(ids, client)
        est.invoiceid = inv.id
        other_inv = make_invoice(ids, client)  # not part of this chain
        pay = InvoicePayment(invoiceid=inv.id, amount=Decimal("10"), date=date.today())
        dn = GoodsDelivery(goods_delivery_code="XK000005", invoice_id=inv.id)
        db.session.add_all([pay, dn])
        db.session.flush()
        pl = PackingList(packing_list_number="PL000003", delivery_note_id=dn.id)
        db.session.add(pl)
        db.session.flush()
        awb = Shipment(packing_list_id=pl.id, delivery_note_id=dn.id, awb_number="FAN-123456")
        vendor = Vendor(company="Alfa SRL")
        db.session.add_all([awb, vendor])
        db.session.flush()
        rq = PurchaseRequest(pur_rq_code="#PR000002", pur_rq_name="Shortage for EST", sale_estimate=est.id)
        db.session.add(rq)
        db.session.flush()
        q1 = PurchaseQuotation(vendor=vendor.userid, pur_request=rq.id, prefix="Q-", number=4, status=2)
        q2 = PurchaseQuotation(vendor=vendor.userid, pur_request=rq.id, prefix="Q-", number=5, status=3)
        db.session.add_all([q1, q2])
        db.session.flush()
        po = PurchaseOrder(pur_order_number="#PO000006", vendor=vendor.userid, estimate=q1.id, pur_request=rq.id,
                           status=2)
        db.session.add(po)
        db.session.flush()
        gr = GoodsReceipt(goods_receipt_code="NK000008", pr_order_id=po.id, approval=1)
        vi = VendorInvoice(invoice_number="VI-000009", pur_order=po.id, vendor=vendor.userid, total=Decimal("50"))
        db.session.add_all([gr, vi])
        db.session.flush()
        vp = VendorPayment(pur_invoice=vi.id, amount=Decimal("50"))
        db.session.add(vp)
        db.session.commit()
        return {"estimate": est.id, "invoice": inv.id, "other_invoice": other_inv.id, "delivery": dn.id,
                "awb": awb.id, "rfq": rq.id, "po": po.id, "receipt": gr.id, "vendor_invoice": vi.id,
                "vendor_payment": vp.id, "inv_number": str(inv), "est_number": str(est),
                "other_number": str(other_inv)}


ALL = ["EST-000001", "XK000005", "PL000003", "FAN-123456", "Payment #", "#PR000002", "Q-4", "Q-5", "#PO000006",
       "NK000008", "VI-000009"]


@pytest.mark.parametrize("start", [("pur_invoice_payment", "vendor_payment"), ("wh_omni_shipments", "awb"),
                                   ("estimates", "estimate"), ("pur_request", "rfq")])
def test_trace_page_from_any_document_shows_the_whole_chain(app, admin_client, chain, start):
    resource, key = start
    resp = admin_client.get(f"/admin/trace/{resource}/{chain[key]}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for label in ALL + [chain["inv_number"]]:
        assert label in html, label
    assert chain["other_number"] not in html  # an unrelated invoice of the same client
    # Each entry links to its details page.
    assert f'href="/admin/purchase/purchase_order/details/?id={chain["po"]}"' in html
    assert f'href="/admin/warehouse/manage_purchase/details/?id={chain["receipt"]}"' in html


def test_trace_link_on_details_pages(app, admin_client, chain):
    html = admin_client.get(f"/admin/purchase/myinvoices/details/?id={chain['vendor_invoice']}").get_data(as_text=True)
    assert f'href="/admin/trace/pur_invoices/{chain["vendor_invoice"]}"' in html
    html = admin_client.get(f"/admin/estimates/details/?id={chain['estimate']}").get_data(as_text=True)
    assert f'href="/admin/trace/estimates/{chain["estimate"]}"' in html
    # A table outside the chain has no Trace link.
    from crm.purchasing.models import Vendor

    with app.app_context():
        vid = db.session.query(Vendor.userid).scalar()
    html = admin_client.get(f"/admin/purchase/vendors/details/?id={vid}").get_data(as_text=True)
    assert 'data-testid="trace-link"' not in html


def test_trace_api(app, admin_client, api_headers, chain):
    resp = admin_client.get(f"/api/v1/goods_receipt/{chain['receipt']}/trace", headers=api_headers)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    types = [s["type"] for s in body["chain"]]
    assert types == ["Sales orders", "Invoices", "Delivery notes", "Packing lists", "AWBs", "Payments",
                     "Requests for quotation", "Vendor quotations", "Purchase orders", "Goods receipts",
                     "Vendor invoices", "Vendor payments"]
    by_type = {s["type"]: s["documents"] for s in body["chain"]}
    assert [d["label"] for d in by_type["Vendor quotations"]] == ["Q-4", "Q-5"]
    po = by_type["Purchase orders"][0]
    assert po["status"] == "Approved" and {"resource": "pur_estimates", "id": by_type["Vendor quotations"][0]["id"],
                                           "via": "estimate"} in po["links"]
    assert by_type["Goods receipts"][0]["links"] == [{"resource": "pur_orders", "id": chain["po"], "via": "pr_order_id"}]
    assert admin_client.get("/api/v1/pur_orders/999/trace", headers=api_headers).status_code == 404
    resp = admin_client.get("/api/v1/leads/1/trace", headers=api_headers)
    assert resp.status_code == 404 and "not a document of the commercial cycle" in resp.get_json()["error"]
    assert admin_client.get(f"/api/v1/pur_orders/{chain['po']}/trace").status_code == 401


def test_trace_hides_what_the_reader_may_not_see(app, chain):
    with app.app_context():
        make_staff("sdr@test.example", "Sales Manager")  # sales documents, no purchasing
    client = app.test_client()
    login(client, "sdr@test.example", "pass-1234")
    html = client.get(f"/admin/trace/estimates/{chain['estimate']}").get_data(as_text=True)
    assert chain["est_number"] in html and "#PO000006" not in html and "(no access)" in html
    assert client.get(f"/admin/trace/pur_orders/{chain['po']}").status_code == 403
    headers = api_token(client, "sdr@test.example", "pass-1234")
    assert client.get(f"/api/v1/pur_orders/{chain['po']}/trace", headers=headers).status_code == 403
