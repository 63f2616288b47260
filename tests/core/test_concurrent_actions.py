"""The same action pressed by several people at the same moment, through the API in real concurrent
sessions, on every database (SQLite included, as ``make run`` serves it threaded): whatever one
request checked stays true until it commits, so exactly one wins where only one may, and the others
are told why."""
from __future__ import annotations

from decimal import Decimal

from crm.core.extensions import db
from tests.conftest import api_token, at_once
from tests.sales.test_sales_support import api, base_data, make_client, make_invoice, make_proposal
from tests.warehouse.warehouse_support import (
    client as wh_client,
    invoice as wh_invoice,
    item,
    ledger_matches_balances,
    on_hand,
    receipt,
    warehouse,
)


def _press_at_once(app, resource, action, ids, **data):
    """POST /api/v1/<resource>/<id>/actions/<action> for each id (a repeated id: the same button
    pressed again), all at the same moment. Returns the sorted (status, message or error) answers."""
    headers = api_token(app.test_client())

    def press(key, ready):
        client = app.test_client()
        ready()
        r = api(client, headers, resource, key[1], action, **data)
        body = r.get_json() or {}
        return r.status_code, body.get("message") or body.get("error")

    results, errors = at_once(app, press, list(enumerate(ids)))
    assert errors == {}
    return sorted(results.values(), key=lambda a: (a[0], a[1] or ""))


def _one_wins(answers, n, refusal):
    assert len(answers) == n, answers
    assert [a[0] for a in answers] == [200] + [409] * (n - 1), answers
    assert all(refusal in a[1] for a in answers[1:]), answers


def test_four_delivery_notes_approved_at_once_on_a_lot_of_five(app):
    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.sales.models.documents import Invoice
    from crm.warehouse.models import GoodsDelivery

    with app.app_context():
        wh, a, buyer = warehouse(), item(), wh_client()
        receipt(wh, [(a, "5", "L1", None, "1.00")], approve=True)
        admin = db.session.query(Staff).filter_by(admin=True).one()
        notes = []
        for n in range(1, 5):  # four notes of 3 each
            inv = wh_invoice(buyer, [(a, "Pallet jack", "3", "10.00")], number=n)
            run(Invoice, inv, "create_delivery_note", admin)
            notes.append(db.session.query(GoodsDelivery.id).filter_by(invoice_id=inv).scalar())
    answers = _press_at_once(app, "goods_delivery", "approve", notes)
    _one_wins(answers, 4, "Not enough stock")
    assert all("needed 3, available 2" in a[1] for a in answers[1:]), answers
    with app.app_context():
        assert on_hand(a) == 2
        assert db.session.query(GoodsDelivery).filter(GoodsDelivery.approval == 1).count() == 1
        ledger_matches_balances()


def test_one_goods_receipt_approved_four_times_at_once_stocks_once(app):
    with app.app_context():
        wh, a = warehouse(), item()
        gr = receipt(wh, [(a, "5", "L1", None, "1.00")])
    answers = _press_at_once(app, "goods_receipt", "approve", [gr] * 4)
    _one_wins(answers, 4, "is Approved, not a draft")
    with app.app_context():
        assert on_hand(a) == 5
        ledger_matches_balances()


def test_three_payments_at_once_never_pay_more_than_the_invoice(app):
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice, InvoicePayment

    with app.app_context():
        ids = base_data()
        inv = make_invoice(ids, make_client()).id  # 298.10 RON
    answers = _press_at_once(app, "invoices", "record_payment", [inv] * 3, amount="180.00",
                             paymentmode=str(ids["bank"]))
    _one_wins(answers, 3, "180.00 RON is more than what is left to pay on Invoice INV-000001: 118.10 RON")
    with app.app_context():
        assert [p.amount for p in db.session.query(InvoicePayment)] == [Decimal("180.00")]
        assert db.session.get(Invoice, inv).status == 3  # partially paid
        assert db.session.query(Client).count() == 1


def test_one_proposal_converted_five_times_at_once_makes_one_invoice(app):
    from crm.sales.models.documents import Invoice, Proposal

    with app.app_context():
        ids = base_data()
        pid = make_proposal(ids, make_client()).id  # accepted
    answers = _press_at_once(app, "proposals", "convert_to_invoice", [pid] * 5)
    _one_wins(answers, 5, "Proposal PRO-000001 was already converted to invoice INV-000001.")
    with app.app_context():
        assert db.session.query(Invoice).count() == 1
        assert db.session.get(Proposal, pid).invoice_id == db.session.query(Invoice.id).scalar()


def test_two_invoices_applying_one_advance_at_once_never_spend_more_than_it(app):
    from crm.sales.models.documents import InvoicePayment
    from crm.sales.models.payments import ClientAdvancePayment

    with app.app_context():
        ids = base_data()
        buyer = make_client()
        invoices = [make_invoice(ids, buyer).id for _ in range(2)]
        buyer_id = buyer.userid
    headers = api_token(app.test_client())
    r = api(app.test_client(), headers, "clients", buyer_id, "record_advance_payment", amount="100",
            paymentmode=ids["bank"])
    assert r.status_code == 200, r.get_json()
    answers = _press_at_once(app, "invoices", "apply_advance", invoices, amount="80.00")
    _one_wins(answers, 2, "80.00 RON is more than the advance credit of client Nordic Trade SRL: 20.00 RON.")
    with app.app_context():
        assert [p.amount for p in db.session.query(InvoicePayment)] == [Decimal("80.00")]
        assert db.session.query(ClientAdvancePayment).count() == 1
    body = app.test_client().get(f"/api/v1/clients/{buyer_id}", headers=headers).get_json()
    assert body["available_credit"] == {"RON": "20.00"}
