"""Purchasing through the entry points a person uses: RFQ → vendor quotations (grid, vendor portal)
→ comparison → purchase order → vendor invoice and payments."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crm.core.extensions import db
from tests.conftest import csrf_from
from tests.purchasing.purchase_support import create_rfq, portal_link, purchase_data
from tests.sales.test_sales_support import api, get, press

RFQ_URL = "purchase/purchase_request"
QUOTES_URL = "purchase/myquotations"
PO_URL = "purchase/purchase_order"
VI_URL = "purchase/myinvoices"


@pytest.fixture
def ids(app):
    with app.app_context():
        return purchase_data()


def _approved_rfq(app, client, headers, ids):
    rfq = create_rfq(client, headers, ids)
    assert api(client, headers, "pur_request", rfq["id"], "approve").status_code == 200
    return rfq


def _outbox(app, rel_type):
    from crm.core.models.messaging import EmailOutbox

    with app.app_context():
        rows = db.session.query(EmailOutbox).filter_by(rel_type=rel_type).order_by(EmailOutbox.id).all()
        for r in rows:
            db.session.expunge(r)
        return rows


def _answer(client, link, prices, delivery=None, note="Stock available"):
    path = urlsplit(link).path
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "delivery_date": (delivery or date.today() + timedelta(days=5)).isoformat(),
            "note": note}
    line_ids = re.findall(r'name="price_(\d+)"', html)
    assert len(line_ids) == len(prices)
    data.update({f"price_{lid}": p for lid, p in zip(line_ids, prices)})
    return client.post(path, data=data, follow_redirects=True)


def test_rfq_numbered_totalled_and_approved_from_the_grid(app, admin_client, api_headers, ids):
    from crm.purchasing.models import PurchaseRequest

    rfq = create_rfq(admin_client, api_headers, ids)
    assert rfq["pur_rq_code"] == "#PR000001"
    # 100 × 20 + 19% VAT on it, 4 × 150 without tax
    assert Decimal(rfq["subtotal"]) == Decimal("2600.00") and Decimal(rfq["total_tax"]) == Decimal("380.00")
    assert Decimal(rfq["total"]) == Decimal("2980.00")
    page = admin_client.get(f"/admin/{RFQ_URL}/").get_data(as_text=True)
    assert "#PR000001" in page and 'data-action="approve"' in page
    html = press(admin_client, RFQ_URL, "approve", rfq["id"], page=page).get_data(as_text=True)
    assert "RFQ #PR000001 approved" in html
    assert get(app, PurchaseRequest, rfq["id"]).status == 2
    # Rejecting an approved RFQ is refused with the reason; nothing changes.
    resp = api(admin_client, api_headers, "pur_request", rfq["id"], "reject")
    assert resp.status_code == 409
    assert resp.get_json()["error"] == "RFQ #PR000001 is Approved; only a draft RFQ can be rejected."


def test_rfq_without_lines_cannot_be_approved_and_cancel_refuses_with_an_order(app, admin_client, api_headers, ids):
    resp = admin_client.post("/api/v1/pur_request", json={"pur_rq_name": "Empty"}, headers=api_headers)
    empty = resp.get_json()
    resp = api(admin_client, api_headers, "pur_request", empty["id"], "approve")
    assert resp.status_code == 409 and "has no lines" in resp.get_json()["error"]
    assert api(admin_client, api_headers, "pur_request", empty["id"], "cancel").status_code == 200
    resp = api(admin_client, api_headers, "pur_request", empty["id"], "cancel")
    assert resp.status_code == 409 and "already Canceled" in resp.get_json()["error"]


def test_send_to_vendors_emails_pdf_and_a_portal_link_per_vendor(app, admin_client, api_headers, ids):
    from crm.purchasing.models import PurchaseQuotation

    rfq = create_rfq(admin_client, api_headers, ids)
    # A draft is not sent.
    resp = api(admin_client, api_headers, "pur_request", rfq["id"], "send_to_vendors", vendors=[ids["v1"]])
    assert resp.status_code == 409 and "approve it before" in resp.get_json()["error"]
    api(admin_client, api_headers, "pur_request", rfq["id"], "approve")
    # A vendor nobody can be emailed at: refused, naming it, and nothing queued for the others.
    resp = api(admin_client, api_headers, "pur_request", rfq["id"], "send_to_vendors",
               vendors=f"{ids['v1']},{ids['v3']}")
    assert resp.status_code == 409
    assert "Gamma Fara Email SRL has no contact with an email" in resp.get_json()["error"]
    assert _outbox(app, "pur_request") == []
    # The grid button: its form picks the vendors.
    page = admin_client.get(f"/admin/{RFQ_URL}/run-action/send_to_vendors/{rfq['id']}").get_data(as_text=True)
    assert "Alfa Distributie SRL" in page and "Beta Import SA" in page
    resp = admin_client.post(f"/admin/{RFQ_URL}/run-action/send_to_vendors/{rfq['id']}?url=/admin/{RFQ_URL}/",
                             data={"csrf_token": csrf_from(page), "vendors": [str(ids["v1"]), str(ids["v2"])]},
                             follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "sent to Alfa Distributie SRL (oferte@alfa.ro), Beta Import SA (sales@beta.ro)" in html
    mails = _outbox(app, "pur_request")
    assert [m.to_email for m in mails] == ["oferte@alfa.ro", "sales@beta.ro"]
    links = [portal_link(m.body_html) for m in mails]
    assert len(set(links)) == 2  # each vendor its own link
    for m in mails:
        att = json.loads(m.attachments)
        assert att[0]["filename"] == "PR000001.pdf"
        assert (Path(app.instance_path) / att[0]["path"]).read_bytes().startswith(b"%PDF")
    with app.app_context():
        quotes = db.session.query(PurchaseQuotation).order_by(PurchaseQuotation.id).all()
        assert [(q.vendor, q.status, len(q.items)) for q in quotes] == [(ids["v1"], 1, 2), (ids["v2"], 1, 2)]


def test_vendors_answer_in_the_portal_and_the_comparison_marks_the_best(app, admin_client, api_headers, ids):
    from crm.purchasing.models import PurchaseQuotation

    rfq = _approved_rfq(app, admin_client, api_headers, ids)
    api(admin_client, api_headers, "pur_request", rfq["id"], "send_to_vendors", vendors=[ids["v1"], ids["v2"]])
    alfa, beta = (portal_link(m.body_html) for m in _outbox(app, "pur_request"))
    vendor = app.test_client()  # no login
    # A wrong hash shows nothing.
    assert vendor.get(urlsplit(alfa).path[:-4] + "0000").status_code == 404
    # Bad input: the field is named, nothing stored.
    resp = _answer(vendor, alfa, ["abc", "140"])
    assert resp.status_code == 422 and "Unit price of" in resp.get_data(as_text=True)
    resp = _answer(vendor, alfa, ["19.50", "140"], delivery=date.today() - timedelta(days=1))
    assert resp.status_code == 422 and "cannot be in the past" in resp.get_data(as_text=True)
    resp = _answer(vendor, alfa, ["19.50", "140"], delivery=date.today() + timedelta(days=10))
    assert resp.status_code == 200 and "Thank you: your quotation" in resp.get_data(as_text=True)
    resp = _answer(vendor, beta, ["18,90", "155"], delivery=date.today() + timedelta(days=3))
    assert resp.status_code == 200
    assert vendor.get(urlsplit(alfa).path + "/pdf").data.startswith(b"%PDF")
    # The buyer (who sent the RFQ) is told each time a vendor answers.
    told = _outbox(app, "pur_estimate")
    assert [m.subject for m in told] == ["Alfa Distributie SRL quoted 2,880.50 RON for #PR000001 (quotation Q-1)",
                                         "Beta Import SA quoted 2,869.10 RON for #PR000001 (quotation Q-2)"]
    assert told[0].to_email == "admin@test.example" and f"/admin/purchase/compare/{rfq['id']}" in told[0].body_html
    with app.app_context():
        a, b = db.session.query(PurchaseQuotation).order_by(PurchaseQuotation.id).all()
        # 100 × 19.50 + 19% + 4 × 140 ; 100 × 18.90 + 19% + 4 × 155
        assert (a.total, b.total) == (Decimal("2880.50"), Decimal("2869.10"))
        assert b.delivery_date == date.today() + timedelta(days=3)
        a_id, b_id = a.id, b.id
    # The RFQ's details page links to the comparison; per line the cheaper price is marked.
    details = admin_client.get(f"/admin/{RFQ_URL}/details/?id={rfq['id']}").get_data(as_text=True)
    assert 'data-testid="compare-link"' in details and 'data-testid="trace-link"' in details
    html = admin_client.get(f"/admin/purchase/compare/{rfq['id']}").get_data(as_text=True)
    assert html.count('data-testid="best-price"') == 2
    assert 'data-testid="best-price">18.90' in html and 'data-testid="best-price">140.00' in html
    assert re.search(r'data-testid="best-total">\s*2,869.10 RON', html)
    # Accepting from the comparison page rejects the other quotation, in one go.
    resp = admin_client.post(f"/admin/{QUOTES_URL}/run-action/accept/{b_id}?url=/admin/purchase/compare/{rfq['id']}",
                             data={"csrf_token": csrf_from(html)}, follow_redirects=True)
    assert f"rejected {get(app, PurchaseQuotation, a_id)}" in resp.get_data(as_text=True)
    assert (get(app, PurchaseQuotation, a_id).status, get(app, PurchaseQuotation, b_id).status) == (3, 2)
    # The vendor can no longer change a quotation that was decided.
    resp = vendor.get(urlsplit(alfa).path)
    assert "it can no longer be changed" in resp.get_data(as_text=True)
    assert 'name="price_' not in resp.get_data(as_text=True)


def _accepted_quote(app, client, headers, ids):
    from crm.purchasing.models import PurchaseQuotation

    rfq = _approved_rfq(app, client, headers, ids)
    assert api(client, headers, "pur_request", rfq["id"], "request_quotations",
               vendors=f"{ids['v1']},{ids['v2']}").status_code == 200
    with app.app_context():
        q1, q2 = db.session.query(PurchaseQuotation).order_by(PurchaseQuotation.id).all()
        q1id, q2id = q1.id, q2.id
    # The agent types in the quote received: prices on the lines through the API.
    resp = client.patch(f"/api/v1/pur_estimates/{q1id}", headers=headers, json={
        "delivery_date": (date.today() + timedelta(days=7)).isoformat(),
        "items": [{"item_code": ids["paper"], "quantity": "100", "unit_price": "19.00", "tax": ids["vat"]},
                  {"item_code": ids["toner"], "quantity": "4", "unit_price": "145.00"}]})
    assert resp.status_code == 200, resp.get_json()
    assert Decimal(resp.get_json()["total"]) == Decimal("2841.00")
    resp = api(client, headers, "pur_estimates", q1id, "accept")
    assert resp.status_code == 200, resp.get_json()
    return rfq, q1id, q2id


def test_purchase_order_from_accepted_quotation_approve_send_cancel(app, admin_client, api_headers, ids):
    from crm.core import events
    from crm.purchasing.models import PurchaseOrder, PurchaseQuotation

    rfq, q1, q2 = _accepted_quote(app, admin_client, api_headers, ids)
    assert get(app, PurchaseQuotation, q2).status == 3
    # A pending quotation cannot become an order; the accepted one does, once.
    resp = api(admin_client, api_headers, "pur_estimates", q1, "create_purchase_order")
    assert resp.status_code == 200, resp.get_json()
    po_id = resp.get_json()["id"]
    resp = api(admin_client, api_headers, "pur_estimates", q1, "create_purchase_order")
    assert resp.status_code == 409 and "already has purchase order #PO000001" in resp.get_json()["error"]
    po = admin_client.get(f"/api/v1/pur_orders/{po_id}", headers=api_headers).get_json()
    assert (po["pur_order_number"], po["status"], po["estimate"], po["pur_request"]) == ("#PO000001", 1, q1, rfq["id"])
    assert [(i["item_code"], Decimal(i["unit_price"])) for i in po["items"]] == [(ids["paper"], Decimal("19.00")),
                                                                                (ids["toner"], Decimal("145.00"))]
    assert Decimal(po["total"]) == Decimal("2841.00")
    # Sending a draft is refused; approving from the grid fires purchase_order.approved.
    resp = api(admin_client, api_headers, "pur_orders", po_id, "send")
    assert resp.status_code == 409 and "approve it before sending" in resp.get_json()["error"]
    seen = []
    listener = events.subscribe(lambda name, obj, actor, data: seen.append((name, obj.id)))
    try:
        html = press(admin_client, PO_URL, "approve", po_id).get_data(as_text=True)
    finally:
        events._subscribers.remove(listener)
    assert "Purchase order #PO000001 approved" in html
    assert ("purchase_order.approved", po_id) in seen
    po = get(app, PurchaseOrder, po_id)
    assert (po.status, po.order_status, po.delivery_status) == (2, 2, 0)
    # Send: PDF and portal link to the vendor; the vendor sees the order.
    html = press(admin_client, PO_URL, "send", po_id).get_data(as_text=True)
    assert "sent to Alfa Distributie SRL (oferte@alfa.ro)" in html
    (mail,) = _outbox(app, "pur_order")
    assert json.loads(mail.attachments)[0]["filename"] == "PO000001.pdf"
    page = app.test_client().get(urlsplit(portal_link(mail.body_html)).path)
    assert page.status_code == 200 and "#PO000001" in page.get_data(as_text=True)
    # Goods received: cancel is refused, with what to do instead.
    with app.app_context():
        db.session.get(PurchaseOrder, po_id).items[0].wh_quantity_received = Decimal("10")
        db.session.commit()
    html = press(admin_client, PO_URL, "cancel", po_id).get_data(as_text=True)
    assert "cannot be canceled: goods were already received" in html
    resp = api(admin_client, api_headers, "pur_orders", po_id, "cancel")
    assert resp.status_code == 409
    assert "cannot be canceled: goods were already received" in resp.get_json()["error"]
    assert get(app, PurchaseOrder, po_id).status == 2


def test_manual_purchase_order_and_delivered_completes_it(app, admin_client, api_headers, ids):
    from crm.purchasing.models import PurchaseOrder

    resp = admin_client.post("/api/v1/pur_orders", headers=api_headers, json={
        "pur_order_name": "Manual toner", "vendor": ids["v2"],
        "items": [{"item_code": ids["toner"], "quantity": "2", "unit_price": "150", "discount": "10"}]})
    assert resp.status_code == 201, resp.get_json()
    po = resp.get_json()
    assert po["pur_order_number"] == "#PO000001" and Decimal(po["total"]) == Decimal("270.00")
    assert api(admin_client, api_headers, "pur_orders", po["id"], "approve").status_code == 200
    with app.app_context():  # what a goods receipt's approval does to the order
        obj = db.session.get(PurchaseOrder, po["id"])
        obj.items[0].wh_quantity_received = Decimal("2")
        obj.delivery_status = 1
        db.session.commit()
    assert get(app, PurchaseOrder, po["id"]).order_status == 3
    # Cancel a fresh draft works.
    resp = admin_client.post("/api/v1/pur_orders", headers=api_headers, json={"pur_order_name": "X", "vendor": ids["v1"]})
    assert api(admin_client, api_headers, "pur_orders", resp.get_json()["id"], "cancel").status_code == 200


def test_vendor_invoice_from_order_with_payments(app, admin_client, api_headers, ids):
    from crm.purchasing.models import VendorInvoice

    resp = admin_client.post("/api/v1/pur_orders", headers=api_headers, json={
        "pur_order_name": "Paper", "vendor": ids["v1"],
        "items": [{"item_code": ids["paper"], "quantity": "10", "unit_price": "20.05", "tax": ids["vat"]}]})
    po_id = resp.get_json()["id"]
    resp = api(admin_client, api_headers, "pur_orders", po_id, "create_vendor_invoice")
    assert resp.status_code == 409 and "only an approved purchase order is billed" in resp.get_json()["error"]
    api(admin_client, api_headers, "pur_orders", po_id, "approve")
    html = press(admin_client, PO_URL, "create_vendor_invoice", po_id).get_data(as_text=True)
    assert "Create vendor invoice: done." in html
    with app.app_context():
        inv = db.session.query(VendorInvoice).one()
        inv_id = inv.id
        # 10 × 20.05 = 200.50, VAT 38.10 (38.095 rounded half-up)
        assert (inv.invoice_number, inv.subtotal, inv.tax, inv.total, inv.payment_status) == \
            ("VI-000001", Decimal("200.50"), Decimal("38.10"), Decimal("238.60"), "unpaid")
        assert inv.pur_order == po_id and len(inv.items) == 1
    # Partial payment through the grid form.
    page = admin_client.get(f"/admin/{VI_URL}/run-action/record_payment/{inv_id}").get_data(as_text=True)
    resp = admin_client.post(f"/admin/{VI_URL}/run-action/record_payment/{inv_id}?url=/admin/{VI_URL}/",
                             data={"csrf_token": csrf_from(page), "amount": "100.00", "paymentmode": str(ids["bank"]),
                                   "date": date.today().isoformat()}, follow_redirects=True)
    assert "Payment of 100.00 recorded on Vendor invoice VI-000001; Partially paid, 138.60 left to pay" \
        in resp.get_data(as_text=True)
    assert get(app, VendorInvoice, inv_id).payment_status == "partially_paid"
    # Over-payment: refused with what is left, nothing recorded.
    resp = api(admin_client, api_headers, "pur_invoices", inv_id, "record_payment", amount="200", paymentmode=ids["bank"])
    assert resp.status_code == 409 and resp.get_json()["field"] == "amount"
    assert "is more than what is left to pay" in resp.get_json()["error"] and "138.60" in resp.get_json()["error"]
    resp = api(admin_client, api_headers, "pur_invoices", inv_id, "record_payment", amount="-5", paymentmode=ids["bank"])
    assert resp.status_code == 422 and resp.get_json()["field"] == "amount"
    resp = api(admin_client, api_headers, "pur_invoices", inv_id, "record_payment", amount="138.60",
               paymentmode=ids["bank"])
    assert resp.status_code == 200, resp.get_json()
    inv = get(app, VendorInvoice, inv_id)
    assert inv.payment_status == "paid"
    resp = api(admin_client, api_headers, "pur_invoices", inv_id, "record_payment", amount="1", paymentmode=ids["bank"])
    assert resp.status_code == 409 and "already paid" in resp.get_json()["error"]
    # Payments are written by the action only.
    assert admin_client.post("/api/v1/pur_invoice_payment", headers=api_headers,
                             json={"pur_invoice": inv_id, "amount": "5"}).status_code == 405
    # nor through the vendor invoice they are nested in (found by fuzzing: emptying them was a 500)
    resp = admin_client.patch(f"/api/v1/pur_invoices/{inv_id}", headers=api_headers, json={"payments": []})
    assert resp.status_code == 422 and resp.get_json()["field"] == "payments"
    assert len(admin_client.get(f"/api/v1/pur_invoices/{inv_id}", headers=api_headers).get_json()["payments"]) == 2
    # A second bill for the same order is refused, naming the first.
    resp = api(admin_client, api_headers, "pur_orders", po_id, "create_vendor_invoice")
    assert resp.status_code == 409 and "VI-000001" in resp.get_json()["error"]


def test_manual_vendor_invoice_totals(app, admin_client, api_headers, ids):
    resp = admin_client.post("/api/v1/pur_invoices", headers=api_headers, json={
        "vendor": ids["v2"], "vendor_invoice_number": "B-77",
        "items": [{"description": "Transport", "quantity": "1", "unit_price": "99.99", "tax": ids["vat"]}]})
    assert resp.status_code == 201, resp.get_json()
    inv = resp.get_json()
    assert (inv["invoice_number"], Decimal(inv["total"]), inv["payment_status"]) == ("VI-000001", Decimal("118.99"),
                                                                                    "unpaid")


def test_purchasing_screens_open(admin_client, app, api_headers, ids):
    rfq = create_rfq(admin_client, api_headers, ids)
    for url in (RFQ_URL, QUOTES_URL, PO_URL, VI_URL):
        assert admin_client.get(f"/admin/{url}").status_code == 200
    assert admin_client.get(f"/admin/documents/pur_request/{rfq['id']}.pdf").data.startswith(b"%PDF")
    assert "No quotations yet" in admin_client.get(f"/admin/purchase/compare/{rfq['id']}").get_data(as_text=True)
    assert admin_client.get("/admin/purchase/compare/999").status_code == 404


def test_cli_asks_vendors_and_the_quotation_page_links_back(app, admin_client, api_headers, ids):
    rfq = _approved_rfq(app, admin_client, api_headers, ids)
    result = app.test_cli_runner().invoke(args=["crm", "action", "pur_request", str(rfq["id"]), "send_to_vendors",
                                                f"vendors={ids['v1']},{ids['v2']}"])
    assert result.exit_code == 0, result.output
    assert "sent to Alfa Distributie SRL (oferte@alfa.ro), Beta Import SA (sales@beta.ro)" in result.output
    from crm.purchasing.models import PurchaseQuotation

    with app.app_context():
        qid = db.session.query(PurchaseQuotation.id).order_by(PurchaseQuotation.id).first()[0]
    html = admin_client.get(f"/admin/{QUOTES_URL}/details/?id={qid}").get_data(as_text=True)
    assert f'href="/admin/purchase/compare/{rfq["id"]}"' in html
    link = urlsplit(portal_link(_outbox(app, "pur_request")[0].body_html)).path
    assert f'{link}" data-testid="vendor-link"' in html
    # The order's PDF from its details page.
    resp = api(admin_client, api_headers, "pur_estimates", qid, "reject")
    assert resp.status_code == 200
    resp = admin_client.post("/api/v1/pur_orders", headers=api_headers, json={
        "vendor": ids["v1"], "items": [{"item_code": ids["paper"], "quantity": "1", "unit_price": "2"}]})
    po_id = resp.get_json()["id"]
    html = admin_client.get(f"/admin/{PO_URL}/details/?id={po_id}").get_data(as_text=True)
    assert f'href="/admin/documents/pur_order/{po_id}.pdf"' in html
    pdf = admin_client.get(f"/admin/documents/pur_order/{po_id}.pdf")
    assert pdf.data.startswith(b"%PDF") and 'filename="PO000001.pdf"' in pdf.headers["Content-Disposition"]


def test_rfq_from_the_admin_form_is_numbered_and_totalled(app, admin_client, ids):
    from crm.purchasing.models import PurchaseRequest

    page = admin_client.get(f"/admin/{RFQ_URL}/new/").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "pur_rq_name": "Toner for the office", "status": "1",
            "items-0-item": str(ids["toner"]), "items-0-quantity": "3", "items-0-unit_price": "99.90",
            "items-0-tax_rel": str(ids["vat"])}
    resp = admin_client.post(f"/admin/{RFQ_URL}/new/", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    with app.app_context():
        rq = db.session.query(PurchaseRequest).one()
        # 3 × 99.90 = 299.70; 19% = 56.943 → 56.94
        assert (rq.pur_rq_code, rq.subtotal, rq.total_tax, rq.total) == ("#PR000001", Decimal("299.70"),
                                                                        Decimal("56.94"), Decimal("356.64"))


def test_purchasing_and_finance_roles(app, ids):
    from tests.conftest import api_token, make_staff

    with app.app_context():
        make_staff("buyer@test.example", "Purchasing")
        make_staff("cfo@test.example", "Finance")
        make_staff("sdr@test.example", "SDR")
    client = app.test_client()
    buyer = api_token(client, "buyer@test.example", "pass-1234")
    rfq = create_rfq(client, buyer, ids)
    assert api(client, buyer, "pur_request", rfq["id"], "approve").status_code == 200
    sdr = api_token(client, "sdr@test.example", "pass-1234")
    resp = api(client, sdr, "pur_request", rfq["id"], "cancel")
    assert resp.status_code == 403 and "action:pur_request.cancel" in resp.get_json()["error"]
    resp = client.post("/api/v1/pur_invoices", headers=buyer, json={
        "vendor": ids["v1"], "items": [{"description": "Paper", "quantity": "1", "unit_price": "10"}]})
    cfo = api_token(client, "cfo@test.example", "pass-1234")
    resp = api(client, cfo, "pur_invoices", resp.get_json()["id"], "record_payment", amount="10",
               paymentmode=ids["bank"])
    assert resp.status_code == 200 and "Paid" in resp.get_json()["message"]
