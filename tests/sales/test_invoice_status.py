"""Invoice status as a function of total, payments, due date and cancellation."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from crm.sales.invoice_status import CANCELLED, DRAFT, OVERDUE, PAID, PARTIAL, UNPAID, compute_status

TODAY = date(2026, 11, 23)
PAST, FUTURE = TODAY - timedelta(days=1), TODAY + timedelta(days=1)


@pytest.mark.parametrize("current,total,paid,due,expected", [
    (DRAFT, "100", "100", PAST, DRAFT),
    (CANCELLED, "100", "0", PAST, CANCELLED),
    (UNPAID, "121.00", "121.00", FUTURE, PAID),
    (UNPAID, "121.00", "100.00", FUTURE, PARTIAL),  # paid without VAT: still partially paid
    (OVERDUE, "121.00", "1.00", PAST, PARTIAL),  # partial wins over overdue
    (UNPAID, "121.00", "0", PAST, OVERDUE),
    (OVERDUE, "121.00", "0", FUTURE, UNPAID),
    (UNPAID, "121.00", "0", None, UNPAID),
])
def test_compute_status(current, total, paid, due, expected):
    assert compute_status(current, Decimal(total), Decimal(paid), due, TODAY) == expected


def test_overdue_sweep_job(app):
    from crm.core.extensions import db
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice, InvoicePayment

    with app.app_context():
        c = Client(company="Late Payer SRL")
        db.session.add(c)
        db.session.flush()
        late = Invoice(clientid=c.userid, date=date(2026, 9, 1), duedate=date(2026, 10, 1), status=UNPAID,
                       total=Decimal("50.00"), formatted_number="INV-000001")
        part = Invoice(clientid=c.userid, date=date(2026, 9, 1), duedate=date(2026, 10, 1), status=UNPAID,
                       total=Decimal("50.00"), formatted_number="INV-000002")
        db.session.add_all([late, part])
        db.session.flush()
        db.session.add(InvoicePayment(invoiceid=part.id, amount=Decimal("10.00"), paymentmode="1",
                                      date=date(2026, 9, 5)))
        db.session.commit()
        ids = late.id, part.id
    result = app.test_cli_runner().invoke(args=["crm", "cron", "sweep_overdue_invoices"])
    assert "1 invoice(s) marked overdue" in result.output
    with app.app_context():
        assert db.session.get(Invoice, ids[0]).status == OVERDUE
        assert db.session.get(Invoice, ids[1]).status == PARTIAL


def test_a_status_is_never_edited_by_hand(app, admin_client):
    """Through the API and the grid's form an invoice's status is not for a person to set: asking
    for Paid is refused naming the field and the actions (record_payment among them), the grid's form
    has no status field, and an edit of the due date moves the status with it."""
    from crm.catalog.models import Currency, PaymentMode
    from crm.core.extensions import db
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice
    from tests.conftest import api_token, csrf_from

    with app.app_context():
        db.session.add_all([Client(company="Rho SRL"), Currency(name="RON", symbol="lei", isdefault=True),
                            PaymentMode(name="Bank")])
        db.session.commit()
        cid = db.session.query(Client.userid).scalar()
    h = api_token(admin_client)
    r = admin_client.post("/api/v1/invoices", headers=h, json={
        "clientid": cid, "date": "2026-11-01", "duedate": "2099-01-01",
        "items": [{"description": "Audit", "qty": "1", "rate": "100.00"}]})
    assert r.status_code == 201 and r.get_json()["status"] == DRAFT
    iid = r.get_json()["id"]
    assert admin_client.post(f"/api/v1/invoices/{iid}/actions/issue", headers=h).status_code == 200
    r = admin_client.patch(f"/api/v1/invoices/{iid}", headers=h, json={"status": PAID})
    assert r.status_code == 422 and r.get_json()["field"] == "status" and "record_payment" in r.get_json()["error"]
    r = admin_client.patch(f"/api/v1/invoices/{iid}", headers=h, json={"duedate": "2026-01-01"})
    assert r.status_code == 200 and r.get_json()["status"] == OVERDUE
    # the grid's form: no status field; one posted anyway changes nothing
    page = admin_client.get(f"/admin/invoices/edit/?id={iid}").get_data(as_text=True)
    assert 'name="status"' not in page
    form = {"csrf_token": csrf_from(page), "client": str(cid), "date": "2026-11-01", "duedate": "2099-01-01",
            "status": str(PAID)}
    admin_client.post(f"/admin/invoices/edit/?id={iid}", data=form, follow_redirects=True)
    with app.app_context():
        assert db.session.get(Invoice, iid).status == UNPAID
