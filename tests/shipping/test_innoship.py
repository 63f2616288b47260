"""Courier AWBs through Innoship: book from a packing list, label, tracking, cancel, faults.

The real client (crm/shipping/innoship.py) talks over HTTP to the stand-in of
crm/shipping/sandbox.py, served on a loopback port."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from crm.core.extensions import db
from crm.sandbox import Served
from crm.shipping.sandbox import InnoshipSandbox
from tests.conftest import api_token
from tests.sales.test_sales_support import base_data, make_client, make_invoice, press, set_option


@pytest.fixture
def sandbox(app, monkeypatch, tmp_path):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))  # labels
    sb = InnoshipSandbox(api_key="test-key")
    sb.timeout_delay = 6.0  # longer than innoship_timeout below
    served = Served(sb.app)
    for name, value in (("innoship_api_url", served.url), ("innoship_api_key", "test-key"),
                        ("innoship_location_id", "WH-CLUJ"), ("innoship_timeout", "5")):
        set_option(app, name, value)
    yield sb
    served.stop()


@pytest.fixture
def packing(app):
    """An approved packing list of an approved delivery note for an unpaid invoice (298.10 RON)."""
    from crm.catalog.models import PaymentMode
    from crm.sales.models.clients import Client, Contact
    from crm.warehouse.models import GoodsDelivery, PackingList, PackingListDetail

    with app.app_context():
        ids = base_data()
        client = make_client()
        client.shipping_street, client.shipping_city, client.shipping_state = "Str. Fabricii 7", "Codlea", "Brasov"
        client.shipping_zip, client.phonenumber = "505100", "0268000111"
        contact = db.session.query(Contact).filter_by(userid=client.userid).one()
        contact.phonenumber = "0722000333"
        cod = PaymentMode(name="Ramburs", cash_on_delivery=True)
        db.session.add(cod)
        db.session.commit()
        invoice = make_invoice(ids, db.session.get(Client, client.userid))
        note = GoodsDelivery(goods_delivery_code="XK-000001", customer_code=client.userid, invoice_id=invoice.id,
                             approval=1)
        db.session.add(note)
        db.session.flush()
        pl = PackingList(packing_list_number="PL-000001", delivery_note_id=note.id, clientid=client.userid,
                         width=Decimal("30"), height=Decimal("20"), lenght=Decimal("40"), weight=Decimal("2.5"),
                         approval=1, client_note="Call before delivery")
        pl.items.append(PackingListDetail(commodity_name="Pallet wrap", quantity=Decimal("4")))
        db.session.add(pl)
        db.session.commit()
        return {"pl": pl.id, "note": note.id, "invoice": invoice.id, "cod": cod.id, "client": client.userid}


def shipment(app, pl_id):
    from crm.warehouse.models import Shipment

    with app.app_context():
        s = db.session.query(Shipment).filter_by(packing_list_id=pl_id).one_or_none()
        if s is not None:
            db.session.expunge(s)
        return s


def book(admin_client, pl_id):
    return press(admin_client, "warehouse/manage_packing_list", "create_awb", pl_id).get_data(as_text=True)


def test_book_from_the_grid_stores_awb_and_label(app, admin_client, sandbox, packing):
    html = book(admin_client, packing["pl"])
    assert "Courier booking requested for PL-000001" in html
    s = shipment(app, packing["pl"])
    assert s.status == "created" and s.awb_number and s.courier == "Cargus", (s.error, s.attempts)
    assert s.price == Decimal("18.74") and s.currency == "RON"  # (12 + 1.5 × 2.5) × 1.19
    assert s.tracking_url.endswith(s.awb_number) and s.external_order_id == "PL-000001"
    order = sandbox.orders[s.awb_number]["body"]
    assert order["addressTo"] == {
        "name": "Nordic Trade SRL", "contactPerson": "Bogdan Buyer", "country": "RO", "countyName": "Brasov",
        "localityName": "Codlea", "addressText": "Str. Fabricii 7", "postalCode": "505100",
        "phone": "0722000333", "email": "buyer@nordic.ro"}
    assert order["content"]["parcels"] == [{"sequenceNo": 1, "weight": 2.5, "type": "Parcel",
                                            "reference1": "PL-000001",
                                            "size": {"width": 30.0, "height": 20.0, "length": 40.0}}]
    assert order["externalOrderId"] == "PL-000001" and order["externalClientLocation"] == "WH-CLUJ"
    assert order["extra"]["cashOnDeliveryAmount"] is None  # the invoice does not ask for it
    assert order["observation"] == "Call before delivery" and order["content"]["contents"] == "Pallet wrap"
    label = admin_client.get(f"/admin/innoship/label/{s.id}.pdf")
    assert label.status_code == 200 and label.data.startswith(b"%PDF")
    details = admin_client.get(f"/admin/warehouse/manage_packing_list/details/?id={packing['pl']}").get_data(as_text=True)
    assert s.awb_number in details and "Label (PDF)" in details
    listing = admin_client.get("/admin/innoship/awb/").get_data(as_text=True)
    assert s.awb_number in listing and "PL-000001" in listing


def test_the_client_gets_the_awb_and_the_delivery_note_shows_it(app, admin_client, sandbox, packing):
    from crm.core.models.messaging import EmailOutbox
    from crm.shipping.actions import email_shipment
    from tests.core.test_pdf_documents import pdf_text

    book(admin_client, packing["pl"])
    s = shipment(app, packing["pl"])
    with app.app_context():
        (mail,) = db.session.query(EmailOutbox).filter_by(template="delivery-note-shipped").all()
        assert mail.to_email == "buyer@nordic.ro"
        assert mail.subject == f"Your order XK-000001 is on its way: AWB {s.awb_number}"
        assert "Cargus" in mail.body_html and s.tracking_url in mail.body_html
        (att,) = json.loads(mail.attachments)
        assert att["filename"].endswith(".pdf")
        assert f"AWB: {s.awb_number}" in pdf_text((Path(app.instance_path) / att["path"]).read_bytes())
        assert email_shipment(s.id) == f"AWB {s.awb_number} was already emailed"  # the job again
    pdf = admin_client.get(f"/admin/documents/delivery_note/{packing['note']}.pdf")
    assert pdf.status_code == 200 and s.awb_number in pdf_text(pdf.data)


def test_one_packing_list_never_gets_two_awbs(app, admin_client, sandbox, packing):
    from crm.shipping.actions import book_awb

    book(admin_client, packing["pl"])
    again = book(admin_client, packing["pl"])
    assert "already has AWB" in again
    s = shipment(app, packing["pl"])
    with app.app_context():
        assert book_awb(s.id) == "nothing to book"  # the job running a second time
    assert len(sandbox.booked()) == 1
    resp = admin_client.post(f"/api/v1/wh_packing_lists/{packing['pl']}/actions/create_awb",
                             headers=api_token(admin_client), json={})
    assert resp.status_code == 409 and "already has AWB" in resp.get_json()["error"]


def test_cash_on_delivery_when_the_invoice_allows_it(app, admin_client, sandbox, packing):
    from crm.sales.models.documents import Invoice, InvoicePayment

    with app.app_context():
        inv = db.session.get(Invoice, packing["invoice"])
        inv.allowed_payment_modes = json.dumps([packing["cod"]])
        db.session.add(InvoicePayment(invoiceid=inv.id, amount=Decimal("98.10"), paymentmode="1",
                                      date=datetime.utcnow().date()))
        db.session.commit()
    book(admin_client, packing["pl"])
    s = shipment(app, packing["pl"])
    assert sandbox.orders[s.awb_number]["body"]["extra"]["cashOnDeliveryAmount"] == 200.0  # 298.10 − 98.10


def test_what_must_be_filled_first_is_named(app, admin_client, sandbox, packing):
    from crm.sales.models.clients import Client
    from crm.warehouse.models import PackingList

    with app.app_context():
        db.session.get(PackingList, packing["pl"]).weight = None
        db.session.commit()
    assert "Enter the weight (kg) of packing list PL-000001" in book(admin_client, packing["pl"])
    with app.app_context():
        pl = db.session.get(PackingList, packing["pl"])
        pl.weight = Decimal("1")
        db.session.get(Client, packing["client"]).shipping_state = None
        db.session.commit()
    resp = admin_client.post(f"/api/v1/wh_packing_lists/{packing['pl']}/actions/create_awb",
                             headers=api_token(admin_client), json={})
    assert resp.status_code == 409
    assert "has no county (state)" in resp.get_json()["error"]
    assert shipment(app, packing["pl"]) is None and sandbox.orders == {}


def test_approval_books_the_awb_when_innoship_is_configured(app, sandbox, packing):
    from crm.warehouse.models import PackingList

    with app.app_context():
        pl = db.session.get(PackingList, packing["pl"])
        pl.approval = 0
        db.session.commit()
        pl.approval = 1  # approving it (whichever screen does it) announces packing_list.approved
        db.session.commit()
    s = shipment(app, packing["pl"])
    assert s.status == "created" and len(sandbox.booked()) == 1


def test_a_refusal_is_shown_on_the_packing_list(app, admin_client, sandbox, packing):
    sandbox.fail_next(400)
    book(admin_client, packing["pl"])
    s = shipment(app, packing["pl"])
    assert s.status == "failed" and "Innoship refused the request: Sandbox failure 400" in s.error
    details = admin_client.get(f"/admin/warehouse/manage_packing_list/details/?id={packing['pl']}").get_data(as_text=True)
    assert "Sandbox failure 400" in details and "book the courier again" in details
    assert "AWB" in book(admin_client, packing["pl"])  # booking again after the fix
    assert shipment(app, packing["pl"]).status == "created"


@pytest.mark.parametrize("fault", [500, "timeout", "garbage"])
def test_server_errors_and_timeouts_are_retried_by_the_job(app, admin_client, sandbox, packing, fault):
    from crm.shipping.actions import retry_due_bookings
    from crm.warehouse.models import Shipment

    sandbox.fail_next(fault)
    book(admin_client, packing["pl"])
    s = shipment(app, packing["pl"])
    assert s.status == "pending" and s.attempts == 1 and "will retry" in s.error
    assert s.next_attempt_at > datetime.utcnow()
    with app.app_context():
        assert retry_due_bookings() == "0 booking(s) retried"  # not due yet
        db.session.get(Shipment, s.id).next_attempt_at = datetime.utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert retry_due_bookings() == "1 booking(s) retried"
    s = shipment(app, packing["pl"])
    assert s.status == "created" and s.awb_number and s.error is None
    assert len(sandbox.booked()) == 1


def test_a_wrong_api_key_fails_with_what_to_do(app, admin_client, sandbox, packing):
    set_option(app, "innoship_api_key", "wrong")
    book(admin_client, packing["pl"])
    s = shipment(app, packing["pl"])
    assert s.status == "failed" and "refused the API key (401): check it at /admin/innoship" in s.error


def test_tracking_moves_packing_list_and_delivery_note(app, admin_client, sandbox, packing):
    from crm.shipping.actions import track_awbs
    from crm.warehouse.models import GoodsDelivery, PackingList

    book(admin_client, packing["pl"])
    awb = shipment(app, packing["pl"]).awb_number
    sandbox.advance(awb, 2)  # picked up, in transit
    with app.app_context():
        assert track_awbs() == "1 AWB(s) tracked, 1 moved on"
        assert db.session.get(PackingList, packing["pl"]).delivery_status == "wh_in_transit"
        assert db.session.get(GoodsDelivery, packing["note"]).delivery_status == "delivery_in_progress"
    sandbox.advance(awb, 1)  # delivered
    with app.app_context():
        track_awbs()
        assert db.session.get(PackingList, packing["pl"]).delivery_status == "wh_delivered"
        assert db.session.get(GoodsDelivery, packing["note"]).delivery_status == "delivered"
        assert track_awbs() == "no AWB to track"
    s = shipment(app, packing["pl"])
    assert s.status == "delivered" and "Delivered" in s.last_event
    details = admin_client.get(f"/admin/warehouse/manage_packing_list/details/?id={packing['pl']}").get_data(as_text=True)
    assert "Picked up by courier" in details and "In transit" in details


def test_cancel_before_pickup_and_refused_after(app, admin_client, sandbox, packing):
    book(admin_client, packing["pl"])
    awb = shipment(app, packing["pl"]).awb_number
    html = press(admin_client, "warehouse/manage_packing_list", "cancel_awb", packing["pl"]).get_data(as_text=True)
    assert f"AWB {awb} cancelled" in html
    assert shipment(app, packing["pl"]).status == "cancelled" and sandbox.orders[awb]["cancelled"]
    book(admin_client, packing["pl"])  # a new booking for the same packing list
    awb2 = shipment(app, packing["pl"]).awb_number
    assert awb2 != awb
    sandbox.advance(awb2, 1)
    html = press(admin_client, "warehouse/manage_packing_list", "cancel_awb", packing["pl"]).get_data(as_text=True)
    assert f"Innoship did not cancel AWB {awb2}" in html and "already picked up" in html
    assert shipment(app, packing["pl"]).status == "created"


def test_unapproved_or_unconfigured_is_refused(app, admin_client, sandbox, packing):
    from crm.warehouse.models import PackingList

    with app.app_context():
        db.session.get(PackingList, packing["pl"]).approval = 0
        db.session.commit()
    assert "is not approved; approve it before booking a courier" in book(admin_client, packing["pl"])
    set_option(app, "innoship_api_key", "")
    with app.app_context():
        db.session.get(PackingList, packing["pl"]).approval = 1  # no key: approval books nothing
        db.session.commit()
    assert "Innoship is not configured: set the API key at /admin/innoship" in book(admin_client, packing["pl"])
    assert shipment(app, packing["pl"]) is None and sandbox.calls == []


def test_settings_screen_lists_the_innoship_options(admin_client):
    html = admin_client.get("/admin/innoship/").get_data(as_text=True)
    for name in ("innoship_api_url", "innoship_api_key", "innoship_location_id", "innoship_service_id",
                 "innoship_courier_id", "innoship_payment"):
        assert name in html
