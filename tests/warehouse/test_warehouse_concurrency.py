"""Two approvals competing for the last units, in real concurrent sessions:
exactly one wins, the other is told why, stock never goes negative."""
from __future__ import annotations

import pytest

from crm.core.extensions import db
from tests.conftest import at_once
from tests.warehouse.warehouse_support import (
    client,
    invoice,
    item,
    ledger_matches_balances,
    on_hand,
    receipt,
    warehouse,
)


@pytest.mark.parametrize("rounds", [3])
def test_two_concurrent_delivery_approvals_for_the_last_units(app, rounds):
    from crm.core.models.settings import Staff
    from crm.core.registry import ActionError, run
    from crm.sales.models.documents import Invoice
    from crm.warehouse.models import GoodsDelivery

    with app.app_context():
        wh = warehouse()
        a = item()
        buyer = client()
        admin_id = db.session.query(Staff.staffid).filter_by(admin=True).scalar()
    for r in range(rounds):
        with app.app_context():
            receipt(wh, [(a, "5", f"L{r}", None, "1.00")], approve=True)
            admin = db.session.get(Staff, admin_id)
            notes = []
            for k in range(2):  # two notes, each wanting 4 of the 5 in stock
                inv = invoice(buyer, [(a, "Pallet jack", "4", "10.00")], number=r * 2 + k + 1)
                run(Invoice, inv, "create_delivery_note", admin)
                notes.append(db.session.query(GoodsDelivery.id).filter_by(invoice_id=inv).scalar())
        def approve(note_id, ready):
            staff = db.session.get(Staff, admin_id)
            ready()
            try:
                return "ok: " + run(GoodsDelivery, note_id, "approve", staff)
            except ActionError as exc:
                return "refused: " + exc.message

        results, errors = at_once(app, approve, notes)
        assert errors == {}
        outcomes = sorted(results.values())
        assert len(outcomes) == 2 and outcomes[0].startswith("ok: "), outcomes
        assert outcomes[1].startswith("refused: Not enough stock") and "needed 4, available 1" in outcomes[1]
        with app.app_context():
            assert on_hand(a) == 1
            approved = db.session.query(GoodsDelivery).filter(GoodsDelivery.id.in_(notes),
                                                              GoodsDelivery.approval == 1).count()
            assert approved == 1
            ledger_matches_balances()
            # take the last unit out so the next round starts from the new receipt only
            from crm.warehouse.models import LossAdjustment, LossAdjustmentDetail

            adj = LossAdjustment(type="loss", warehouses=wh, reason="round over")
            adj.items.append(LossAdjustmentDetail(items=a, lot_number=f"L{r}", updates_number=0))
            db.session.add(adj)
            db.session.commit()
            run(LossAdjustment, adj.id, "approve", db.session.get(Staff, admin_id))
            assert on_hand(a) == 0
