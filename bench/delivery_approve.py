"""Approvals per second of a 10-line delivery note drawing on 5 lots per line (issue 4: ≥ 200/s on
PostgreSQL). Each approval is the whole `approve` action as a person runs it (permission, row
locks, FIFO draw, 50 ledger rows, activity line, commit), one after another in one process.

    python bench/delivery_approve.py --db postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench \
        [--notes 300] [--lines 10] [--lots 5] [--min-rate 200]

The database's tables are dropped and rebuilt from the migrations first: give it a scratch database.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=None, help="SQLAlchemy URL (default: a temporary SQLite file)")
    ap.add_argument("--notes", type=int, default=300)
    ap.add_argument("--lines", type=int, default=10)
    ap.add_argument("--lots", type=int, default=5)
    ap.add_argument("--min-rate", type=float, default=200.0)
    args = ap.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import func

    from crm import create_app
    from crm.actions import run
    from crm.cli import _admin_account
    from crm.extensions import db
    from crm.models import (GoodsDelivery, GoodsDeliveryDetail, InventoryBalance, Item, Staff, StockTransaction,
                            Warehouse)

    tmp = tempfile.TemporaryDirectory()
    url = args.db or f"sqlite:///{tmp.name}/bench.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None})
    with app.app_context():
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from tests.conftest import _drop_everything

        _drop_everything()
        upgrade()
        _admin_account("bench@crmconnect.test", "bench-password")
        admin = db.session.query(Staff).filter_by(email="bench@crmconnect.test").one()
        wh = Warehouse(warehouse_code="B", warehouse_name="Bench")
        items = [Item(description=f"Item {i}", commodity_code=f"B-{i}", rate=Decimal("10")) for i in range(args.lines)]
        db.session.add_all([wh, *items])
        db.session.flush()
        # one lot of 1 unit per (note, line, lot): each line of each note drains exactly `lots` lots
        balances = [{"warehouse_id": wh.warehouse_id, "commodity_id": it.id, "inventory_number": Decimal(1),
                     "reserved_quantity": Decimal(0), "lot_number": f"L{n}-{k}", "purchase_price": Decimal("5")}
                    for n in range(args.notes) for it in items for k in range(args.lots)]
        db.session.execute(InventoryBalance.__table__.insert(), balances)
        db.session.execute(StockTransaction.__table__.insert(), [
            {"warehouse_id": b["warehouse_id"], "commodity_id": b["commodity_id"], "quantity": Decimal(1),
             "old_quantity": Decimal(0), "status": 1, "lot_number": b["lot_number"], "purchase_price": Decimal("5"),
             "rel_type": "bench"} for b in balances])
        notes = []
        for n in range(args.notes):
            note = GoodsDelivery(warehouse_id=wh.warehouse_id, goods_delivery_code=f"XK-B{n}")
            for it in items:
                note.items.append(GoodsDeliveryDetail(commodity_code=it.id, warehouse_id=wh.warehouse_id,
                                                      quantities=Decimal(args.lots), unit_price=Decimal("10")))
            db.session.add(note)
            notes.append(note)
        db.session.commit()
        ids = [n.id for n in notes]
        admin_id = admin.staffid
        db.session.remove()

        times = []
        started = time.perf_counter()
        for note_id in ids:
            t0 = time.perf_counter()
            run(GoodsDelivery, note_id, "approve", db.session.get(Staff, admin_id))
            times.append((time.perf_counter() - t0) * 1000)
            db.session.expunge_all()  # each approval starts cold, as a new request would
        elapsed = time.perf_counter() - started
        left = db.session.query(func.sum(InventoryBalance.inventory_number)).scalar()
        moves = db.session.query(StockTransaction).filter_by(status=2).count()
        assert left == 0 and moves == args.notes * args.lines * args.lots, (left, moves)
        dialect = db.engine.dialect.name

    rate = len(ids) / elapsed
    print(f"{dialect}: {len(ids)} approvals of {args.lines}-line notes x {args.lots} lots/line: "
          f"{rate:.0f} approvals/s; per approval median {statistics.median(times):.2f} ms, "
          f"p95 {sorted(times)[int(len(times) * 0.95) - 1]:.2f} ms, min {min(times):.2f} ms")
    ok = rate >= args.min_rate
    print("OK" if ok else f"FAIL: below {args.min_rate:.0f} approvals/s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
