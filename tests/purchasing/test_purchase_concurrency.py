"""Two quotations of one RFQ accepted at the same moment, in real concurrent sessions: exactly one
wins, the other is told, and the RFQ ends with one accepted quotation. On PostgreSQL and MariaDB
each transaction locks its own quotation before reaching for the other (a deadlock the database
breaks); SQLite lets one writer in at a time, so the second finds its quotation already rejected."""
from __future__ import annotations

import threading
from decimal import Decimal

from crm.core.extensions import db


def test_concurrent_accepts_leave_one_winner(app):
    from crm.core.models.settings import Staff
    from crm.core.registry import ActionError, run
    from crm.purchasing.actions import quotations
    from crm.purchasing.models import PurchaseQuotation, PurchaseQuotationDetail, PurchaseRequest, Vendor

    with app.app_context():
        rq = PurchaseRequest(pur_rq_name="Race", status=2)
        v1, v2 = Vendor(company="One"), Vendor(company="Two")
        db.session.add_all([rq, v1, v2])
        db.session.flush()
        qs = [PurchaseQuotation(vendor=v.userid, pur_request=rq.id, status=1, total=Decimal("10"),
                                items=[PurchaseQuotationDetail(quantity=Decimal(1), unit_price=Decimal(10))])
              for v in (v1, v2)]
        db.session.add_all(qs)
        db.session.commit()
        ids = [q.id for q in qs]
        admin_id = db.session.query(Staff.staffid).filter_by(admin=True).scalar()
        one_writer_at_a_time = db.engine.dialect.name == "sqlite"

    both_locked = threading.Barrier(2, timeout=10)
    real_siblings = quotations.siblings

    def siblings_after_both_locked(q):
        try:  # each transaction holds its own quotation before reaching for the other ...
            both_locked.wait()
        except threading.BrokenBarrierError:
            pass  # ... unless the database lets one writer in at a time (SQLite): then it never comes
        return real_siblings(q)

    outcomes = {}

    def accept(qid):
        with app.app_context():
            try:
                outcomes[qid] = run(PurchaseQuotation, qid, "accept", db.session.get(Staff, admin_id))
            except ActionError as exc:
                outcomes[qid] = exc

    quotations.siblings = siblings_after_both_locked
    try:
        threads = [threading.Thread(target=accept, args=(qid,)) for qid in ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        quotations.siblings = real_siblings
    refused = [o for o in outcomes.values() if isinstance(o, ActionError)]
    assert len(outcomes) == 2 and len(refused) == 1, outcomes
    assert both_locked.broken == one_writer_at_a_time
    if one_writer_at_a_time:
        assert refused[0].message.endswith("is Rejected; only a pending quotation can be accepted.")
    else:
        assert "was being accepted at the same moment" in refused[0].message
    with app.app_context():
        statuses = sorted(q.status for q in db.session.query(PurchaseQuotation).filter(PurchaseQuotation.id.in_(ids)))
        assert statuses == [2, 3]
