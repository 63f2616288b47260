"""Invoices: record a payment, issue a draft, cancel and restore — grid form, API and CLI."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.conftest import api_token, csrf_from
from tests.sales.test_sales_support import TODAY, api, base_data, cli, get, make_client, make_invoice, press, set_option


@pytest.fixture
def ids(app):
    with app.app_context():
        ids = base_data()
        ids["client"] = make_client().userid
        return ids


def _invoice(app, ids, **kw):
    from crm.sales.models.clients import Client

    with app.app_context():
        return make_invoice(ids, db.session.get(Client, ids["client"]), **kw).id  # total 298.10


def _pay_in_grid(admin_client, inv_id, **data):
    form = admin_client.get(f"/admin/invoices/run-action/record_payment/{inv_id}").get_data(as_text=True)
    return press(admin_client, "invoices", "record_payment", inv_id, page=form, data=data), form


def test_grid_payments_partial_then_full(app, admin_client, ids):
    from crm.sales.models.clients import SalesActivity
    from crm.sales.models.documents import Invoice, InvoicePayment

    inv_id = _invoice(app, ids)
    assert get(app, Invoice, inv_id).total == Decimal("298.10")
    page = admin_client.get("/admin/invoices/").get_data(as_text=True)
    assert 'data-action="record_payment"' in page
    resp, form = _pay_in_grid(admin_client, inv_id, amount="100", date=TODAY.isoformat(),
                              paymentmode=str(ids["cash"]), transactionid="OP-1", note="first part")
    assert 'name="amount"' in form and "Bank transfer" in form and "Cash" in form
    html = resp.get_data(as_text=True)
    assert "Payment of 100.00 RON recorded on INV-000001; Partially paid, 198.10 RON left to pay" in html
    assert get(app, Invoice, inv_id).status == 3
    resp, _ = _pay_in_grid(admin_client, inv_id, amount="198.10", date=TODAY.isoformat(),
                           paymentmode=str(ids["bank"]))
    assert "Payment of 198.10 RON recorded on INV-000001; Paid" in resp.get_data(as_text=True)
    with app.app_context():
        inv = db.session.get(Invoice, inv_id)
        assert inv.status == 2
        pays = db.session.query(InvoicePayment).order_by(InvoicePayment.id).all()
        assert [(p.amount, p.paymentmode, p.transactionid, p.note, p.date) for p in pays] == [
            (Decimal("100.00"), str(ids["cash"]), "OP-1", "first part", TODAY),
            (Decimal("198.10"), str(ids["bank"]), None, None, TODAY)]
        assert db.session.query(SalesActivity).filter_by(rel_type="invoice").count() == 2
    # paid: no button any more, and a paid invoice cannot be cancelled
    page = admin_client.get("/admin/invoices/").get_data(as_text=True)
    assert 'data-action="record_payment"' not in page and 'data-action="mark_cancelled"' not in page
    html = press(admin_client, "invoices", "mark_cancelled", inv_id, page=page).get_data(as_text=True)
    assert "Invoice INV-000001 is Paid; an invoice with payments cannot be cancelled" in html


def test_payment_form_errors_are_shown_and_nothing_is_written(app, admin_client, ids):
    from crm.sales.models.documents import InvoicePayment

    inv_id = _invoice(app, ids)
    resp, _ = _pay_in_grid(admin_client, inv_id, amount="0", date=TODAY.isoformat(), paymentmode=str(ids["bank"]))
    assert resp.status_code == 422 and "The amount must be more than 0." in resp.get_data(as_text=True)
    resp, _ = _pay_in_grid(admin_client, inv_id, amount="10", date=TODAY.isoformat(), paymentmode="99999")
    assert resp.status_code == 422 and "Choose an active payment mode." in resp.get_data(as_text=True)
    resp, _ = _pay_in_grid(admin_client, inv_id, amount="300", date=TODAY.isoformat(), paymentmode=str(ids["bank"]))
    assert "300.00 RON is more than what is left to pay on Invoice INV-000001: 298.10 RON." \
        in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(InvoicePayment).count() == 0


def test_api_overpayment_refused_unless_the_option_allows_it(app, ids):
    from crm.sales.models.documents import Invoice

    inv_id = _invoice(app, ids)
    client = app.test_client()
    headers = api_token(client)
    r = api(client, headers, "invoices", inv_id, "record_payment", amount="200", paymentmode=ids["bank"])
    assert r.status_code == 200  # the date defaults to today
    r = api(client, headers, "invoices", inv_id, "record_payment", amount=100.5, paymentmode=ids["bank"])
    assert r.status_code == 409 and r.get_json()["field"] == "amount"
    assert "left to pay on Invoice INV-000001: 98.10 RON" in r.get_json()["error"]
    r = api(client, headers, "invoices", inv_id, "record_payment", amount="-5", paymentmode=ids["bank"])
    assert r.status_code == 422 and r.get_json()["field"] == "amount"
    set_option(app, "allow_payment_above_total", True)
    r = api(client, headers, "invoices", inv_id, "record_payment", amount="100.505", paymentmode=ids["bank"])
    assert r.status_code == 422 and r.get_json()["field"] == "amount"  # refused, never rounded
    r = api(client, headers, "invoices", inv_id, "record_payment", amount="100.51", paymentmode=ids["bank"])
    assert r.status_code == 200, r.get_json()
    assert "Payment of 100.51 RON" in r.get_json()["message"]
    assert get(app, Invoice, inv_id).status == 2


def test_cli_payment_on_a_draft_numbers_it_first(app, ids):
    from crm.sales.models.documents import Invoice

    _invoice(app, ids)  # INV-000001
    draft = _invoice(app, ids, status=6)
    assert get(app, Invoice, draft).number is None
    result = cli(app, "invoices", draft, "record_payment", amount="50", paymentmode=ids["bank"],
                 date=TODAY.isoformat())
    assert result.exit_code == 0, result.output
    assert "recorded on INV-000002; Partially paid" in result.output
    inv = get(app, Invoice, draft)
    assert (inv.number, inv.formatted_number, inv.status) == (2, "INV-000002", 3)


def test_issue_a_draft(app, admin_client, ids):
    from crm.sales.models.documents import Invoice

    draft = _invoice(app, ids, status=6)
    page = admin_client.get("/admin/invoices/").get_data(as_text=True)
    assert "INV-DRAFT" in page or get(app, Invoice, draft).prefix == "INV-"
    html = press(admin_client, "invoices", "issue", draft, page=page).get_data(as_text=True)
    assert "Invoice INV-000001 issued (Unpaid)" in html
    r = api(admin_client, api_token(admin_client), "invoices", draft, "issue")
    assert r.status_code == 409 and r.get_json()["error"] == "Invoice INV-000001 is not a draft (it is Unpaid)."
    # a late draft becomes Overdue as it is issued
    late = _invoice(app, ids, status=6, duedate=TODAY - timedelta(days=3))
    r = api(admin_client, api_token(admin_client), "invoices", late, "issue")
    assert r.get_json()["message"] == "Invoice INV-000002 issued (Overdue)"


def test_cancel_and_restore(app, admin_client, ids):
    from crm.sales.models.documents import Invoice

    inv_id = _invoice(app, ids, duedate=TODAY - timedelta(days=1))
    page = admin_client.get("/admin/invoices/").get_data(as_text=True)
    assert 'data-action="unmark_cancelled"' not in page
    html = press(admin_client, "invoices", "mark_cancelled", inv_id, page=page).get_data(as_text=True)
    assert "Invoice INV-000001 cancelled" in html
    assert get(app, Invoice, inv_id).status == 5
    client = app.test_client()
    headers = api_token(client)
    r = api(client, headers, "invoices", inv_id, "record_payment", amount="10", paymentmode=ids["bank"])
    assert r.status_code == 409
    assert r.get_json()["error"] == ("Invoice INV-000001 is cancelled; unmark it as cancelled before recording "
                                     "a payment.")
    r = api(client, headers, "invoices", inv_id, "unmark_cancelled")
    assert r.status_code == 200 and r.get_json()["message"] == "Invoice INV-000001 restored (Overdue)"
    r = api(client, headers, "invoices", inv_id, "unmark_cancelled")
    assert r.status_code == 409 and r.get_json()["error"] == "Invoice INV-000001 is not cancelled."
    # partially paid: cannot be cancelled either
    api(client, headers, "invoices", inv_id, "record_payment", amount="10", paymentmode=ids["bank"])
    r = api(client, headers, "invoices", inv_id, "mark_cancelled")
    assert r.status_code == 409 and "is Partially paid; an invoice with payments cannot be cancelled" \
        in r.get_json()["error"]


def test_finance_role_and_payment_permission(app, ids):
    """Who may record a payment is the permission action:invoices.record_payment."""
    from tests.conftest import make_staff

    inv_id = _invoice(app, ids)
    with app.app_context():
        make_staff("wh@test.example", "Warehouse")
    client = app.test_client()
    r = api(client, api_token(client, "wh@test.example", "pass-1234"), "invoices", inv_id, "record_payment",
            amount="10", paymentmode=ids["bank"])
    assert r.status_code == 403 and "action:invoices.record_payment" in r.get_json()["error"]


def test_payment_form_page_has_the_csrf_token(admin_client, app, ids):
    inv_id = _invoice(app, ids)
    form = admin_client.get(f"/admin/invoices/run-action/record_payment/{inv_id}").get_data(as_text=True)
    assert csrf_from(form)
    assert f'value="{TODAY.isoformat()}"' in form  # the date field defaults to today
