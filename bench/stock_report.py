#!/usr/bin/env python
"""Benchmark of the "current stock vs minimum" report (/admin/warehouse/reports/minimum).

    python bench/stock_report.py [--db postgres|sqlite] [--items 100000] [--ledger 1000000] [--repeat 20]

A fresh database (PostgreSQL: the database of --url, default crm_bench, dropped and recreated;
SQLite: a temporary file), migrated with Alembic, loaded with Core executemany batches: one
warehouse, --items items each with a minimum and a maximum, three lots per item in
tblinventory_manage (a third of the items end below their minimum) and --ledger rows of
tblgoods_transaction_detail. Then, logged in with the Flask test client, GETs the report page
(below minimum, first page of 100) --repeat times after 2 warm-ups and prints median / p95 and the
query count. Exit status 1 when the median is above --max-median-ms (500).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from invoice_list import db_version, fresh_database, log, login  # noqa: E402  (shared bench helpers)

BATCH = 10_000


def load(items: int, ledger: int, seed: int = 1) -> None:
    from sqlalchemy import insert

    from crm.catalog.models import Item
    from crm.core.extensions import db
    from crm.warehouse.models import InventoryBalance, MinimumStock, StockTransaction, Warehouse

    rnd = random.Random(seed)
    today = date.today()

    def batches(table, rows):
        with db.engine.begin() as conn:
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) == BATCH:
                    conn.execute(insert(table), batch)
                    batch.clear()
            if batch:
                conn.execute(insert(table), batch)

    batches(Warehouse.__table__, [dict(warehouse_id=1, warehouse_code="WH1", warehouse_name="Main")])
    batches(Item.__table__, (dict(id=i, description=f"Item {i}", commodity_code=f"C{i:06d}",
                                  commodity_name=f"Item {i}", rate=Decimal("10.00")) for i in range(1, items + 1)))
    batches(MinimumStock.__table__, (dict(commodity_id=i, inventory_number_min=Decimal(30),
                                          inventory_number_max=Decimal(90)) for i in range(1, items + 1)))
    batches(InventoryBalance.__table__, (
        dict(warehouse_id=1, commodity_id=i, inventory_number=Decimal(rnd.randint(0, 9) if i % 3 == 0
                                                                       else rnd.randint(11, 40)),
             lot_number=f"L{i}-{k}", expiry_date=today + timedelta(days=rnd.randint(-30, 700)),
             purchase_price=Decimal("5.00"))
        for i in range(1, items + 1) for k in range(3)))
    now = datetime.utcnow().replace(microsecond=0)
    batches(StockTransaction.__table__, (
        dict(commodity_id=rnd.randint(1, items), warehouse_id=1, quantity=Decimal(rnd.randint(1, 20)),
             old_quantity=Decimal(0), status=rnd.choice((1, 2, 3)), date_add=now - timedelta(minutes=n))
        for n in range(ledger)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--url")
    parser.add_argument("--force-drop", action="store_true")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--ledger", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--max-median-ms", type=float, default=500.0)
    args = parser.parse_args(argv)
    url, cleanup = fresh_database(args)
    try:
        return measure(args, url)
    finally:
        cleanup()


def measure(args, url) -> int:
    from flask_migrate import upgrade
    from sqlalchemy import event

    from crm.app import create_app
    from crm.cli import _admin_account
    from crm.core.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False})
    with app.app_context():
        upgrade()
        _admin_account("bench-admin@bench.example", "bench password 1234")
        t0 = time.perf_counter()
        load(args.items, args.ledger)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE")
        log(f"database: {db_version(db.engine)}; loaded {args.items:,} items, {3 * args.items:,} lots, "
            f"{args.ledger:,} ledger rows in {time.perf_counter() - t0:.0f} s")
        engine = db.engine
    client = app.test_client()
    login(client)
    queries = []
    count = [0]
    event.listen(engine, "before_cursor_execute", lambda *a: count.__setitem__(0, count[0] + 1))
    times = []
    for n in range(args.repeat + 2):
        count[0] = 0
        start = time.perf_counter()
        resp = client.get("/admin/warehouse/reports/minimum")
        elapsed = (time.perf_counter() - start) * 1000
        if resp.status_code != 200 or "below their minimum" not in resp.get_data(as_text=True):
            log(f"unexpected answer {resp.status_code}")
            return 1
        if n >= 2:
            times.append(elapsed)
            queries.append(count[0])
    times.sort()
    median, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
    log(f"stock vs minimum, first page of 100: median {median:.1f} ms, p95 {p95:.1f} ms, min {times[0]:.1f} ms, "
        f"{queries[0]} queries")
    return 0 if median <= args.max_median_ms else 1


if __name__ == "__main__":
    sys.exit(main())
