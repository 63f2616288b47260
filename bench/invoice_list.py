#!/usr/bin/env python
"""Benchmark of the generated invoice list (/admin/invoices/) on a large, freshly loaded database.

    python bench/invoice_list.py --db sqlite|postgres [--rows 100000] [--repeat 50]

1. Creates a fresh database: SQLite in a temporary file; PostgreSQL: the database named in
   --url (default postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench), dropped and recreated.
2. Runs the Alembic migrations (flask_migrate.upgrade), as production does.
3. Loads one currency, ~2,000 clients, --rows invoices (statuses spread evenly over 6,1,3,2,4,5,
   dates spread over the last 3 years) and 2-3 tblitemable lines per invoice, with SQLAlchemy
   Core insert() executemany batches of 5,000 rows; then ANALYZE (unless --no-analyze).
4. Logs in as an administrator with the Flask test client and GETs
   /admin/invoices/?status=<--status>&sort=<index of "date">&desc=1&page_size=<20|100>,
   --warmup times then --repeat times per page size, timing each request (time.perf_counter)
   and counting SQL statements (before_cursor_execute on db.engine).
5. Prints median / p95 / queries per page size. Exit status 1 when a median is above
   --max-median-ms (100) or the query count differs between page sizes (or within one).

Sorting: Flask-Admin's ``sort=N`` is the position of a column in the view's ``_list_columns``
(the column_list of Invoice's __crm__.admin: formatted_number, client, total, date, ...); the
script looks "date" up there at run time (it is 3) and checks it is sortable.

What-if options (bench database only, the app is not touched): --add-index creates
ix_tblinvoices_status_date (status, date) before measuring; --explain prints the query plans
of the statements of one request.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench"
ADMIN_EMAIL = "bench-admin@bench.example"
ADMIN_PASSWORD = "bench password 1234"
STATUSES = (6, 1, 3, 2, 4, 5)  # InvoiceStatus codes: draft, unpaid, partially paid, paid, overdue, cancelled
BATCH = 5000
PAGE_SIZES = (20, 100)


def log(msg: str) -> None:
    print(msg, flush=True)


# --- database ------------------------------------------------------------------------------

def fresh_database(args) -> tuple[str, callable]:
    """Create an empty database; return its URL and a cleanup function."""
    if args.db == "sqlite":
        if args.url:
            path = Path(args.url.removeprefix("sqlite:///"))
            path.unlink(missing_ok=True)
            return args.url, lambda: None
        tmp = tempfile.mkdtemp(prefix="crm_bench_")
        return f"sqlite:///{tmp}/bench.sqlite", lambda: shutil.rmtree(tmp, ignore_errors=True)

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = make_url(args.url or DEFAULT_PG_URL)
    name = url.database
    if not name or ("bench" not in name and not args.force_drop):
        sys.exit(f"Refusing to drop database {name!r}: its name does not contain 'bench' (use --force-drop).")
    admin_engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def recreate(create=True):
        with admin_engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if create:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    recreate()

    def cleanup():
        recreate(create=False)
        admin_engine.dispose()

    return url.render_as_string(hide_password=False), cleanup


def db_version(engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return "SQLite " + conn.exec_driver_sql("select sqlite_version()").scalar()
        return conn.exec_driver_sql("select version()").scalar()


# --- data ----------------------------------------------------------------------------------

def load_data(rows: int, n_clients: int, admin_id: int, seed: int) -> dict:
    """Bulk-load currency, clients, invoices and their lines with Core executemany batches."""
    from sqlalchemy import insert

    from crm.catalog.models import Currency
    from crm.core.extensions import db
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice, ItemLine

    rnd = random.Random(seed)
    today = date.today()
    now = datetime.utcnow().replace(microsecond=0)
    t_client, t_inv, t_line = Client.__table__, Invoice.__table__, ItemLine.__table__
    n_lines = 0

    def flush(conn, table, batch):
        if batch:
            conn.execute(insert(table), batch)
            batch.clear()

    with db.engine.begin() as conn:
        conn.execute(insert(Currency.__table__), [dict(
            id=1, symbol="lei", name="RON", decimal_separator=",", thousand_separator=".",
            placement="after", isdefault=True, exchange_rate=Decimal("1"))])

        batch = []
        for cid in range(1, n_clients + 1):
            batch.append(dict(
                userid=cid, company=f"Bench Client {cid:05d} SRL", vat=f"RO{10000000 + cid}",
                phonenumber=f"07{cid:08d}", city=rnd.choice(("Bucuresti", "Cluj-Napoca", "Iasi", "Timisoara")),
                country="RO", address=f"Str. Exemplu {cid}", datecreated=now - timedelta(days=rnd.randint(0, 2000)),
                active=True, default_currency=1, addedfrom=admin_id))
            if len(batch) >= BATCH:
                flush(conn, t_client, batch)
        flush(conn, t_client, batch)

        inv_batch, line_batch = [], []
        number = 0
        for iid in range(1, rows + 1):
            status = rnd.choice(STATUSES)
            d = today - timedelta(days=rnd.randint(0, 3 * 365))
            lines = []
            for pos in range(rnd.randint(2, 3)):
                qty = Decimal(rnd.randint(1, 20))
                rate = Decimal(rnd.randint(500, 500000)) / 100
                lines.append((pos, qty, rate))
            subtotal = sum((q * r for _, q, r in lines), Decimal(0)).quantize(Decimal("0.01"))
            tax = (subtotal * Decimal("0.19")).quantize(Decimal("0.01"))
            if status == 6:
                num, formatted = None, None
            else:
                number += 1
                num, formatted = number, f"INV-{number:06d}"
            inv_batch.append(dict(
                id=iid, clientid=rnd.randint(1, n_clients), number=num, prefix="INV-", number_format=1,
                formatted_number=formatted, datecreated=datetime.combine(d, datetime.min.time()), date=d,
                duedate=d + timedelta(days=30), currency=1, subtotal=subtotal, total_tax=tax,
                total=subtotal + tax, status=status, sent=status != 6, addedfrom=admin_id,
                sale_agent=admin_id if iid % 2 else None, discount_percent=Decimal(0),
                discount_total=Decimal(0), recurring=0, cycles=0, total_cycles=0))
            for pos, qty, rate in lines:
                line_batch.append(dict(
                    rel_id=iid, rel_type="invoice", description=f"Service {rnd.randint(1, 500)}",
                    qty=qty, rate=rate, unit="buc", item_order=pos))
            if len(inv_batch) >= BATCH:
                flush(conn, t_inv, inv_batch)
            if len(line_batch) >= BATCH:
                n_lines += len(line_batch)
                flush(conn, t_line, line_batch)
        flush(conn, t_inv, inv_batch)
        n_lines += len(line_batch)
        flush(conn, t_line, line_batch)

        if conn.dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for table, pk in ((t_client, "userid"), (t_inv, "id"), (Currency.__table__, "id")):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk}'), "
                    f"(SELECT max({pk}) FROM {table.name}))")
    return {"clients": n_clients, "invoices": rows, "lines": n_lines}


def analyze(engine) -> None:
    """Planner statistics, as a production database has them. PostgreSQL: VACUUM ANALYZE, the state
    autovacuum reaches a minute after a bulk insert (visibility map set, so counts can be
    index-only scans); doing it now keeps autovacuum from kicking in during the measurement."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")


def add_status_date_index(engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE INDEX ix_tblinvoices_status_date ON tblinvoices (status, date)")
    analyze(engine)


# --- HTTP ----------------------------------------------------------------------------------

def login(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
    if not m:
        sys.exit("No CSRF token on /login")
    resp = client.post("/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": m.group(1)})
    if resp.status_code != 302:
        sys.exit(f"Login failed: HTTP {resp.status_code}")


def invoice_view(app):
    for admin in app.extensions["admin"]:
        for view in admin._views:
            if getattr(view, "endpoint", None) == "invoices":
                return view
    sys.exit("No Flask-Admin view with endpoint 'invoices'")


def sort_index(view, column: str) -> int:
    names = [name for name, _label in view._list_columns]
    if column not in names:
        sys.exit(f"Column {column!r} is not in the invoice list columns {names}")
    if column not in view._sortable_columns:
        sys.exit(f"Column {column!r} is not sortable")
    return names.index(column)


class StatementLog:
    """Count, time and keep the SQL statements the engine executes while active."""

    def __init__(self, engine):
        self.engine = engine
        self.statements: list[tuple[str, object, float]] = []
        self._t0 = None

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._t0 = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append((statement, parameters, time.perf_counter() - self._t0))

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def pct(values, p):
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def short(sql: str, width=110) -> str:
    sql = " ".join(sql.split())
    if sql.startswith("SELECT") and " FROM " in sql:
        head, _, tail = sql.partition(" FROM ")
        sql = (head[:30] + " ... FROM " + tail) if len(head) > 40 else sql
    return sql if len(sql) <= width else sql[: width - 3] + "..."


def explain(engine, statements) -> None:
    with engine.connect() as conn:
        for sql, params, _ in statements:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            log(f"\n  -- {short(sql, 160)}")
            prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
            for row in conn.exec_driver_sql(prefix + sql, params):
                log("     " + (row[-1] if engine.dialect.name == "sqlite" else row[0]))


def measure(app, engine, args, matching: int) -> dict:
    view = invoice_view(app)
    idx = sort_index(view, args.sort_column)
    log(f"Sort: {args.sort_column!r} is index {idx} of the view's _list_columns "
        f"{[name for name, _ in view._list_columns]}")
    client = app.test_client()
    login(client)
    results = {}
    for size in PAGE_SIZES:
        url = f"/admin/invoices/?status={args.status}&sort={idx}&desc=1&page_size={size}"
        times, counts, sql_times, per_stmt, last = [], [], [], [], None
        for i in range(args.warmup + args.repeat):
            with StatementLog(engine) as st:
                t0 = time.perf_counter()
                resp = client.get(url)
                elapsed = time.perf_counter() - t0
            if resp.status_code != 200:
                sys.exit(f"GET {url}: HTTP {resp.status_code}")
            if i == 0:  # the page really is the filtered list, at the requested size
                rows = resp.get_data(as_text=True).count(f'data-code="{args.status}"')
                if rows != min(size, matching):
                    sys.exit(f"GET {url} shows {rows} rows with status {args.status}, expected {min(size, matching)}")
            if i < args.warmup:
                continue
            times.append(elapsed * 1000)
            counts.append(len(st.statements))
            sql_times.append(sum(t for *_, t in st.statements) * 1000)
            per_stmt.append([t * 1000 for *_, t in st.statements])
            last = st.statements
        order_by = [s for s, *_ in last if "ORDER BY" in s]
        if not any(re.search(rf"ORDER BY\s+\w+\.{args.sort_column} DESC", s) for s in order_by):
            sys.exit(f"The list query is not ordered by {args.sort_column} DESC: {order_by}")
        results[size] = dict(url=url, median=statistics.median(times), p95=pct(times, 95),
                             min=min(times), counts=sorted(set(counts)), sql_median=statistics.median(sql_times),
                             statements=last,
                             stmt_median=[statistics.median(col) for col in zip(*per_stmt)])
    return results


# --- main ----------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=("sqlite", "postgres"), required=True)
    ap.add_argument("--url", help=f"database URL (postgres default: {DEFAULT_PG_URL}; sqlite: a temp file)")
    ap.add_argument("--rows", type=int, default=100_000, help="invoices to load (default 100000)")
    ap.add_argument("--clients", type=int, default=2000, help="clients to load (default 2000)")
    ap.add_argument("--repeat", type=int, default=50, help="timed requests per page size (default 50)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed requests per page size first (default 3)")
    ap.add_argument("--status", type=int, default=4, help="?status= filter value (default 4, overdue)")
    ap.add_argument("--sort-column", default="date", help="list column to sort by, descending (default date)")
    ap.add_argument("--max-median-ms", type=float, default=100.0, help="fail above this median (default 100)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-analyze", action="store_true", help="do not run ANALYZE after loading")
    ap.add_argument("--add-index", action="store_true",
                    help="what-if: create index (status, date) on tblinvoices in the bench database first")
    ap.add_argument("--explain", action="store_true", help="print the plans of one request's SELECTs")
    ap.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    ap.add_argument("--force-drop", action="store_true",
                    help="allow dropping a PostgreSQL database whose name lacks 'bench'")
    args = ap.parse_args(argv)

    os.environ.setdefault("SECRET_KEY", "bench-secret-key")  # no instance/secret_key write needed
    url, cleanup = fresh_database(args)
    try:
        return run(args, url)
    finally:
        if args.keep:
            log(f"\nKept the database: {url}")
        else:
            cleanup()


def run(args, url) -> int:
    from flask_migrate import upgrade

    from crm.app import create_app
    from crm.cli import _admin_account
    from crm.core.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "TESTING": False,
                      "CRM_ADMIN_EMAIL": ADMIN_EMAIL, "CRM_ADMIN_PASSWORD": ADMIN_PASSWORD})
    failed = False
    with app.app_context():
        engine = db.engine
        log(f"Database: {db_version(engine)}  ({engine.url.render_as_string(hide_password=True)})")
        t0 = time.perf_counter()
        upgrade()
        log(f"Migrations: {time.perf_counter() - t0:.1f} s")
        _admin_account(ADMIN_EMAIL, ADMIN_PASSWORD)  # returns the Staff or (newer) a bool: look it up
        from crm.core.models.settings import Staff

        admin_id = db.session.query(Staff.staffid).filter_by(email=ADMIN_EMAIL.lower()).scalar()
        db.session.remove()

        t0 = time.perf_counter()
        counts = load_data(args.rows, args.clients, admin_id, args.seed)
        log(f"Loaded {counts['invoices']:,} invoices, {counts['lines']:,} lines, {counts['clients']:,} clients "
            f"in {time.perf_counter() - t0:.1f} s")
        if not args.no_analyze:
            analyze(engine)
        if args.add_index:
            add_status_date_index(engine)
            log("What-if: created ix_tblinvoices_status_date ON tblinvoices (status, date)")
        with engine.connect() as conn:
            matching = conn.exec_driver_sql(
                f"SELECT count(*) FROM tblinvoices WHERE status = {int(args.status)}").scalar()
        log(f"Invoices with status {args.status}: {matching:,}")

    # Measure outside the set-up app context: each test-client request then pushes its own app
    # context, so the session (and its identity map) is fresh per request, as in production.
    load_before = os.getloadavg()[0]
    results = measure(app, engine, args, matching)
    log(f"Load average (1 min) before/after measuring: {load_before:.2f}/{os.getloadavg()[0]:.2f} "
        f"on {os.cpu_count()} CPUs")
    log(f"\nGET /admin/invoices/?status={args.status}&sort=<{args.sort_column}>&desc=1&page_size=N, "
        f"{args.repeat} timed requests after {args.warmup} warm-up")
    log(f"{'page_size':>9} {'median ms':>10} {'p95 ms':>8} {'min ms':>8} {'SQL ms':>8} {'queries':>8}")
    for size, r in results.items():
        q = "/".join(map(str, r["counts"]))
        log(f"{size:>9} {r['median']:>10.1f} {r['p95']:>8.1f} {r['min']:>8.1f} {r['sql_median']:>8.1f} {q:>8}")
    last = results[PAGE_SIZES[-1]]
    log("\nStatements per request (median ms at page_size " + "/".join(map(str, PAGE_SIZES)) + "):")
    for i, (sql, _params, _secs) in enumerate(last["statements"]):
        ms = "/".join(f"{results[s]['stmt_median'][i]:.2f}" if i < len(results[s]["stmt_median"]) else "-"
                      for s in PAGE_SIZES)
        log(f"  {ms:>12}  {short(sql)}")
    if args.explain:
        for size in PAGE_SIZES:
            log(f"\nPlans, page_size={size}:")
            explain(engine, results[size]["statements"])

    for size, r in results.items():
        if r["median"] > args.max_median_ms:
            log(f"FAIL: page_size={size}: median {r['median']:.1f} ms > {args.max_median_ms:g} ms")
            failed = True
    all_counts = {c for r in results.values() for c in r["counts"]}
    if len(all_counts) != 1:
        log("FAIL: query counts differ: " + ", ".join(f"page_size={s}: {r['counts']}"
                                                      for s, r in results.items()))
        failed = True
    engine.dispose()
    log("FAIL" if failed else "OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
