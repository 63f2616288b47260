#!/usr/bin/env python
"""Benchmark of the report screens, their JSON endpoints, the home page and goals on a large database.

    python bench/reports.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench_reports]
                            [--invoices 1000000] [--leads 200000] [--repeat 10]

1. Drops and recreates the PostgreSQL database named in --url (its name must contain "bench"),
   runs the Alembic migrations and creates an administrator.
2. Loads the data of bench/report_data.py (default 1,000,000 invoices with 2 lines each, their
   payments, 200,000 leads) with Core executemany batches, then VACUUM ANALYZE.
3. Logs in with the Flask test client and GETs each report page and JSON endpoint for the last
   12 months (a year, ?preset=last_12_months), --warmup times untimed then --repeat times timed,
   counting the SQL statements of each request.
4. Prints median / p95 / min / SQL ms / queries per URL and the load average. Exit status 1 when
   a median is above --max-median-ms (300) or a request is not a 200.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.invoice_list import (  # noqa: E402
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    StatementLog,
    analyze,
    db_version,
    fresh_database,
    log,
    login,
    pct,
    short,
)

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench_reports"
YEAR = "preset=last_12_months"
URLS = [f"/admin/reports/sales/?{YEAR}&group=month&by=agent",
        f"/admin/reports/sales/data?{YEAR}&group=month&by=agent",
        f"/admin/reports/sales/?{YEAR}&group=month&by=client",
        f"/admin/reports/sales/data?{YEAR}&group=month&by=client",
        f"/admin/reports/sales/?{YEAR}&group=month&by=item",
        f"/admin/reports/sales/data?{YEAR}&group=month&by=item",
        f"/admin/reports/sales/?{YEAR}&group=month&by=currency",
        f"/admin/reports/sales/data?{YEAR}&group=month&by=currency",
        f"/admin/reports/sales/data?{YEAR}&group=day&by=agent",
        f"/admin/reports/sales/data?{YEAR}&group=week&by=agent",
        f"/admin/reports/leads/?{YEAR}",
        f"/admin/reports/leads/data?{YEAR}",
        f"/admin/sales/?{YEAR}&group=month",
        f"/admin/sales/data?{YEAR}&group=month",
        "/admin/",  # the home page: the administrator sees every role's panels, 42 goals totalled
        "/admin/goals/?page_size=50"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default=DEFAULT_URL, help=f"PostgreSQL URL (default {DEFAULT_URL})")
    ap.add_argument("--invoices", type=int, default=1_000_000)
    ap.add_argument("--leads", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=10, help="timed requests per URL (default 10)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed requests per URL first (default 2)")
    ap.add_argument("--max-median-ms", type=float, default=300.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--explain", action="store_true", help="print the plans of the slowest URL's SELECTs")
    ap.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    ap.add_argument("--reuse", action="store_true", help="measure a database kept by --keep, without reloading")
    ap.add_argument("--force-drop", action="store_true")
    args = ap.parse_args(argv)
    args.db = "postgres"
    os.environ.setdefault("SECRET_KEY", "bench-secret-key")
    if args.reuse:
        return run(args, args.url, load_data=False)
    url, cleanup = fresh_database(args)
    try:
        return run(args, url)
    finally:
        if args.keep:
            log(f"\nKept the database: {url}")
        else:
            cleanup()


def run(args, url, load_data=True) -> int:
    from flask_migrate import upgrade

    from bench import report_data
    from crm.app import create_app
    from crm.cli import _admin_account
    from crm.core.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "TESTING": False,
                      "CRM_ADMIN_EMAIL": ADMIN_EMAIL, "CRM_ADMIN_PASSWORD": ADMIN_PASSWORD})
    with app.app_context():
        engine = db.engine
        log(f"Database: {db_version(engine)}")
        if load_data:
            upgrade()
            _admin_account(ADMIN_EMAIL, ADMIN_PASSWORD)
            from crm.core.models.settings import Staff

            admin_id = db.session.query(Staff.staffid).filter_by(email=ADMIN_EMAIL.lower()).scalar()
            db.session.remove()
            t0 = time.perf_counter()
            counts = report_data.load(args.invoices, args.leads, seed=args.seed, admin_id=admin_id)
            log(f"Loaded {', '.join(f'{n:,} {t}' for t, n in counts.items())} in {time.perf_counter() - t0:.0f} s")
            t0 = time.perf_counter()
            analyze(engine)
            log(f"VACUUM ANALYZE: {time.perf_counter() - t0:.0f} s")

    client = app.test_client()
    login(client)
    failed = False
    results = []
    for url_ in URLS:
        times, sql_times, counts, last = [], [], set(), None
        for i in range(args.warmup + args.repeat):
            with app.app_context():
                with StatementLog(db.engine) as st:
                    t0 = time.perf_counter()
                    resp = client.get(url_)
                    elapsed = (time.perf_counter() - t0) * 1000
            if resp.status_code != 200:
                log(f"FAIL: GET {url_}: HTTP {resp.status_code}")
                failed = True
                break
            if i >= args.warmup:
                times.append(elapsed)
                sql_times.append(sum(t for *_, t in st.statements) * 1000)
                counts.add(len(st.statements))
                last = st.statements
        if times:
            results.append((url_, statistics.median(times), pct(times, 95), min(times),
                            statistics.median(sql_times), counts, last))
            log(f"  {url_}: median {results[-1][1]:.1f} ms (load average {os.getloadavg()[0]:.2f})")
    load1, load5, _ = os.getloadavg()
    log(f"\nLoad average after the run: {load1:.2f} (1 min), {load5:.2f} (5 min) on {os.cpu_count()} CPUs")
    log(f"\n{'URL':<62} {'median':>7} {'p95':>7} {'min':>7} {'SQL':>7} {'queries':>7}")
    for url_, med, p95, mn, sql, counts, _ in results:
        log(f"{url_:<62} {med:>7.1f} {p95:>7.1f} {mn:>7.1f} {sql:>7.1f} {'/'.join(map(str, sorted(counts))):>7}")
        if med > args.max_median_ms:
            log(f"FAIL: {url_}: median {med:.1f} ms > {args.max_median_ms:g} ms")
            failed = True
    if results and args.explain:
        url_, *_, statements = max(results, key=lambda r: r[1])
        log(f"\nStatements of {url_}:")
        with engine.connect() as conn:
            for sql, params, secs in statements:
                log(f"\n  -- {secs * 1000:.1f} ms  {short(sql, 160)}")
                if sql.lstrip().upper().startswith("SELECT"):
                    for row in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params):
                        log("     " + row[0])
    engine.dispose()
    log("FAIL" if failed else "OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
