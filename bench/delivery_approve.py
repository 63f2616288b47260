"""Approvals per second of a 10-line delivery note drawing on 5 lots per line (issue 4: ≥ 200/s on
PostgreSQL). Each approval is the whole `approve` action as a person runs it (permission, row
locks, FIFO draw, 50 ledger rows, activity line, commit), one after another in one process; then,
with --workers N, N processes at once (N clerks approving notes of different items), whose total
rate is the server's figure.

    python bench/delivery_approve.py --db postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench \
        [--notes 300] [--lines 10] [--lots 5] [--min-rate 200] [--warmup 10] [--profile 30] [--show-sql] \
        [--workers 2]

The database's tables are dropped and rebuilt from the migrations first: give it a scratch database.

Besides the wall-clock rate it prints figures that do not depend on how busy the machine is: SQL
statements per approval (an executemany counts once), Python function calls per approval (cProfile
over --profile extra approvals, run after the timed ones), and the CPU time of this process per
approval (time.process_time; the database server's CPU is not in it), with the load average.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from invoice_list import analyze  # noqa: E402  (shared bench helpers)
from parallel import run_parallel  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=None, help="SQLAlchemy URL (default: a temporary SQLite file)")
    ap.add_argument("--notes", type=int, default=300)
    ap.add_argument("--lines", type=int, default=10)
    ap.add_argument("--lots", type=int, default=5)
    ap.add_argument("--min-rate", type=float, default=200.0)
    ap.add_argument("--warmup", type=int, default=10, help="approvals before the timed ones (not counted)")
    ap.add_argument("--profile", type=int, default=30, help="approvals run under cProfile after the timed ones")
    ap.add_argument("--top", type=int, default=25, help="functions listed from the profile (0: none)")
    ap.add_argument("--sort", default="tottime", help="order of the profile listing (tottime, cumulative, ...)")
    ap.add_argument("--show-sql", action="store_true", help="print the statements of one approval")
    ap.add_argument("--workers", type=int, default=0,
                    help="then run this many processes at once, each approving --notes notes of its own items "
                         "(the server's rate with several people approving; 0: skip)")
    args = ap.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import event, func

    from crm.app import create_app
    from crm.catalog.models import Item
    from crm.cli import _admin_account
    from crm.core.extensions import db
    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.warehouse.models import GoodsDelivery, GoodsDeliveryDetail, InventoryBalance, StockTransaction, Warehouse

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

        def load(tag: str, count: int) -> list[int]:
            """A warehouse, `lines` items with one lot of 1 unit per (note, line, lot), and `count` draft
            notes of `lines` lines x `lots` units: each line of each note drains exactly `lots` lots."""
            wh = Warehouse(warehouse_code=f"B{tag}", warehouse_name=f"Bench {tag}")
            items = [Item(description=f"Item {tag}{i}", commodity_code=f"B{tag}-{i}", rate=Decimal("10"))
                     for i in range(args.lines)]
            db.session.add_all([wh, *items])
            db.session.flush()
            balances = [{"warehouse_id": wh.warehouse_id, "commodity_id": it.id, "inventory_number": Decimal(1),
                         "reserved_quantity": Decimal(0), "lot_number": f"L{n}-{k}", "purchase_price": Decimal("5")}
                        for n in range(count) for it in items for k in range(args.lots)]
            db.session.execute(InventoryBalance.__table__.insert(), balances)
            db.session.execute(StockTransaction.__table__.insert(), [
                {"warehouse_id": b["warehouse_id"], "commodity_id": b["commodity_id"], "quantity": Decimal(1),
                 "old_quantity": Decimal(0), "status": 1, "lot_number": b["lot_number"],
                 "purchase_price": Decimal("5"), "rel_type": "bench"} for b in balances])
            notes = []
            for n in range(count):
                note = GoodsDelivery(warehouse_id=wh.warehouse_id, goods_delivery_code=f"XK-B{tag}-{n}")
                for it in items:
                    note.items.append(GoodsDeliveryDetail(commodity_code=it.id, warehouse_id=wh.warehouse_id,
                                                          quantities=Decimal(args.lots), unit_price=Decimal("10")))
                db.session.add(note)
                notes.append(note)
            db.session.flush()
            return [n.id for n in notes]

        total = args.warmup + args.notes + args.profile
        ids = load("", total)
        per_worker = [load(f"W{w}", args.warmup + args.notes) for w in range(args.workers)]
        db.session.commit()
        admin_id = admin.staffid
        db.session.remove()
        analyze(db.engine)  # the statistics autovacuum gives a minute after a bulk load, not guesses

        warm, ids, profiled = ids[:args.warmup], ids[args.warmup:args.warmup + args.notes], ids[args.warmup + args.notes:]
        statements: list[str] = []
        sql_ms: dict[str, list[float]] = {}  # per statement (its first words): the time the database took

        @event.listens_for(db.engine, "before_cursor_execute")
        def _before(conn, cursor, sql, params, context, many):
            statements.append(sql)
            conn.info["t0"] = time.perf_counter()

        @event.listens_for(db.engine, "after_cursor_execute")
        def _after(conn, cursor, sql, params, context, many):
            key = " ".join(sql.split()[:4])[:60] + (" (executemany)" if many else "")
            sql_ms.setdefault(key, []).append((time.perf_counter() - conn.info.pop("t0")) * 1000)

        def approve(note_id):
            run(GoodsDelivery, note_id, "approve", db.session.get(Staff, admin_id))
            db.session.expunge_all()  # each approval starts cold, as a new request would

        for note_id in warm:
            approve(note_id)
        if args.show_sql:
            del statements[:]
            approve(ids[0])
            print(f"statements of one approval ({len(statements)}):")
            for sql in statements:
                print("   ", " ".join(sql.split())[:160])
            ids = ids[1:]
        del statements[:]
        sql_ms.clear()
        times = []
        load_before = os.getloadavg()
        cpu0, started = time.process_time(), time.perf_counter()
        for note_id in ids:
            t0 = time.perf_counter()
            approve(note_id)
            times.append((time.perf_counter() - t0) * 1000)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu0
        load_after = os.getloadavg()
        per_approval = len(statements) / len(ids)
        sql_per_approval = {k: (len(v) / len(ids), statistics.median(v)) for k, v in sql_ms.items()}
        prof = cProfile.Profile()
        for note_id in profiled:
            prof.runcall(approve, note_id)
        dialect = db.engine.dialect.name

    concurrent = (run_parallel(approve_notes, [(url, admin_id, ids, args.warmup) for ids in per_worker])
                  if args.workers else None)
    with app.app_context():
        left = db.session.query(func.sum(InventoryBalance.inventory_number)).scalar()
        moves = db.session.query(StockTransaction).filter_by(status=2).count()
        approved = total + sum(len(w) for w in per_worker)
        assert left == 0 and moves == approved * args.lines * args.lots, (left, moves)

    rate = len(ids) / elapsed
    print(f"{dialect}: {len(ids)} approvals of {args.lines}-line notes x {args.lots} lots/line: "
          f"{rate:.0f} approvals/s; per approval median {statistics.median(times):.2f} ms, "
          f"p95 {sorted(times)[int(len(times) * 0.95) - 1]:.2f} ms, min {min(times):.2f} ms")
    print(f"per approval: {per_approval:.1f} SQL statements, {1000 * cpu / len(ids):.2f} ms CPU of this process "
          f"({len(ids) / cpu:.0f} approvals per CPU-second); load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after")
    print(f"per approval: {sum(n * ms for n, ms in sql_per_approval.values()):.2f} ms in the database "
          "(cursor execute, median per statement):")
    for key, (n, ms) in sql_per_approval.items():
        print(f"    {n:4.1f} x {ms:6.3f} ms  {key}")
    if profiled:
        stats = pstats.Stats(prof)
        print(f"per approval: {stats.total_calls / len(profiled):,.0f} Python function calls "
              f"(cProfile over {len(profiled)} approvals)")
        if args.top:
            out = io.StringIO()
            stats.stream = out
            stats.sort_stats(args.sort).print_stats(args.top)
            print(out.getvalue())
    if concurrent:
        n, elapsed, load_after = concurrent
        rate = n / elapsed
        print(f"{dialect}, {args.workers} processes at once, each on its own items: {n} approvals in "
              f"{elapsed:.2f} s: {rate:.0f} approvals/s (load average {load_after:.2f} after)")
    ok = rate >= args.min_rate
    print("OK" if ok else f"FAIL: below {args.min_rate:.0f} approvals/s")
    return 0 if ok else 1


def approve_notes(job, ready) -> int:
    """One process (run_parallel): approve its notes, warm-up first, the rest once all are ready."""
    url, admin_id, note_ids, warmup = job
    from crm.app import create_app
    from crm.core.extensions import db
    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.warehouse.models import GoodsDelivery

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None})
    with app.app_context():
        def approve(note_id):
            run(GoodsDelivery, note_id, "approve", db.session.get(Staff, admin_id))
            db.session.expunge_all()

        for note_id in note_ids[:warmup]:
            approve(note_id)
        ready()
        for note_id in note_ids[warmup:]:
            approve(note_id)
    return len(note_ids) - warmup


if __name__ == "__main__":
    sys.exit(main())
