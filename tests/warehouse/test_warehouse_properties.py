"""Property: whatever sequence of receipts, deliveries, adjustments, returns and invoice
cancellations happens, every balance equals the sum of its ledger and none is negative; the
total on hand is what went in minus what went out."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings, strategies as st

from crm.core.extensions import db
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, _wipe
from tests.sales.test_sales_support import set_option
from tests.warehouse.warehouse_support import (
    TODAY,
    client,
    invoice,
    item,
    ledger_matches_balances,
    on_hand,
    receipt,
    warehouse,
)

LOTS = st.sampled_from(["A", "B", None])
QTY = st.integers(min_value=1, max_value=12)
ITEM = st.integers(min_value=0, max_value=1)

OPS = st.one_of(
    st.tuples(st.just("receive"), ITEM, QTY, LOTS, st.sampled_from([None, -3, 10, 40])),
    st.tuples(st.just("deliver"), ITEM, st.integers(min_value=1, max_value=20)),
    st.tuples(st.just("adjust"), ITEM, LOTS, st.integers(min_value=0, max_value=10)),
    st.tuples(st.just("return"), ITEM, QTY, LOTS),
    st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=30)),
)


def _fresh():
    from crm.cli import _admin_account

    _wipe()
    _admin_account(ADMIN_EMAIL, ADMIN_PASSWORD)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(ops=st.lists(OPS, min_size=1, max_size=12), fefo=st.booleans())
def test_balances_always_equal_their_ledger(app, ops, fefo):
    from crm.core.models.settings import Staff
    from crm.core.registry import ActionError, run
    from crm.sales.models.documents import Invoice
    from crm.warehouse.actions.stock import StockShort
    from crm.warehouse.models import GoodsDelivery, LossAdjustment, LossAdjustmentDetail, OrderReturn, OrderReturnDetail

    with app.app_context():
        _fresh()
        set_option(app, "cancelled_invoice_reverse_inventory", True)
        set_option(app, "warehouse_consume_fefo", fefo)
        wh = warehouse()
        items = [item("A-1", "Apples"), item("B-1", "Bolts")]
        buyer = client()
        admin = db.session.query(Staff).filter_by(admin=True).one()
        invoices = []
        for op in ops:
            kind = op[0]
            if kind == "receive":
                _, i, q, lot, days = op
                expiry = None if days is None else TODAY + timedelta(days=days)
                receipt(wh, [(items[i], str(q), lot, expiry, "2.00")], approve=True, actor=admin)
            elif kind == "deliver":
                _, i, q = op
                before = on_hand(items[i])
                inv = invoice(buyer, [(items[i], "Goods", str(q), "5.00")], number=len(invoices) + 1)
                invoices.append(inv)
                run(Invoice, inv, "create_delivery_note", admin)
                note = db.session.query(GoodsDelivery).filter_by(invoice_id=inv).one()
                try:
                    run(GoodsDelivery, note.id, "approve", admin)
                    assert on_hand(items[i]) == before - q
                except StockShort as exc:
                    assert "needed" in exc.message
                    assert on_hand(items[i]) == before
                    if not fefo:
                        assert before < q
            elif kind == "adjust":
                _, i, lot, counted = op
                doc = LossAdjustment(type="adjustment", warehouses=wh, reason="count")
                doc.items.append(LossAdjustmentDetail(items=items[i], lot_number=lot, updates_number=Decimal(counted)))
                db.session.add(doc)
                db.session.commit()
                run(LossAdjustment, doc.id, "approve", admin)
            elif kind == "return":
                _, i, q, lot = op
                doc = OrderReturn(warehouse_id=wh, company_id=buyer, return_reason="damaged box")
                doc.items.append(OrderReturnDetail(commodity_code=items[i], quantity=Decimal(q), lot_number=lot))
                db.session.add(doc)
                db.session.commit()
                before = on_hand(items[i])
                run(OrderReturn, doc.id, "approve", admin)
                assert on_hand(items[i]) == before + q
            elif kind == "cancel" and invoices:
                inv = invoices[op[1] % len(invoices)]
                try:
                    run(Invoice, inv, "mark_cancelled", admin)
                except ActionError:
                    pass  # already cancelled
            db.session.expire_all()
            ledger_matches_balances()
        db.session.remove()
