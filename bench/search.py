#!/usr/bin/env python
"""Search at a million rows: the grids' search box and the search everywhere box (Ctrl+K), on
PostgreSQL, MariaDB or SQLite.

    python bench/search.py [--db postgres|mariadb|sqlite] [--url URL] [--invoices 1000000] [--leads 200000]
                           [--clients 20000] [--repeat 20] [--warmup 2] [--keep | --reuse] [--search URL ...]

--url defaults to postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench,
mysql+pymysql://root@127.0.0.1:3306/crm_bench?charset=utf8mb4 or sqlite:////tmp/crm_bench_search.sqlite
(the database's name must contain "bench": it is dropped, created and migrated with Alembic, so
PostgreSQL has the trigram indexes of migration srch2trgm0001 and SQLite the FTS5 tables of
srch3fts0001, which their triggers fill during the load, as fast as a rebuild after it), then
filled in SQL by ``INSERT ... SELECT`` from a table of the numbers 1..N (made from a cross join of digits, the same
statements on the three databases; not the ORM): clients with a contact each, invoices (one
client each, numbered INV-0000001...) and leads (name, company, email, phone), then the
planner's statistics (VACUUM ANALYZE, ANALYZE TABLE, ANALYZE). Each search runs through the Flask
test client, signed in as the administrator, each request in a fresh app context: --warmup
requests, then --repeat timed; it prints the median, p95 and the rows the page shows. Exit status
1 when a median is above --max-median-ms (50).
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from invoice_list import (  # noqa: E402  (shared bench helpers)
    ADMIN_EMAIL, ADMIN_PASSWORD, db_version, log, login)

DEFAULT_URLS = {
    "postgres": "postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/crm_bench?charset=utf8mb4",
    "sqlite": "sqlite:////tmp/crm_bench_search.sqlite",
}
TABLES = (("tblclients", "userid"), ("tblcontacts", "id"), ("tblinvoices", "id"), ("tblleads", "id"),
          ("tblcurrencies", "id"))


class Sql:
    """The few expressions the fill needs, written for each database."""

    def __init__(self, dialect: str):
        self.d = dialect

    def cat(self, *parts: str) -> str:
        return f"CONCAT({', '.join(parts)})" if self.d == "mysql" else "(" + " || ".join(parts) + ")"

    def pad(self, expr: str, width: int) -> str:  # the number, zero-padded
        if self.d == "sqlite":
            return f"substr('{'0' * width}' || ({expr}), -{width})"
        return f"lpad(CAST({expr} AS {'CHAR' if self.d == 'mysql' else 'text'}), {width}, '0')"

    @staticmethod
    def pick(expr: str, values: list) -> str:
        return "CASE " + expr + "".join(f" WHEN {i} THEN {v!r}" for i, v in enumerate(values)) + " END"

    def days_ago(self, expr: str, stamp: bool = False) -> str:
        if self.d == "postgresql":
            return f"({'now()' if stamp else 'current_date'} - ({expr}) * interval '1 day')"
        if self.d == "mysql":
            return f"({'NOW()' if stamp else 'CURDATE()'} - INTERVAL ({expr}) DAY)"
        return f"{'datetime' if stamp else 'date'}('now', '-' || ({expr}) || ' days')"

    def text(self, expr: str) -> str:
        return f"CAST({expr} AS {'CHAR' if self.d == 'mysql' else 'text'})"


def fill_statements(sql: Sql) -> list[tuple[str, str]]:
    n, t = "n", sql.text("n")
    return [
        ("currency", """INSERT INTO tblcurrencies (id, symbol, name, decimal_separator, thousand_separator, placement,
                        isdefault, exchange_rate) VALUES (1, 'lei', 'RON', ',', '.', 'after', true, 1)"""),
        ("clients", f"""INSERT INTO tblclients (userid, company, vat, phonenumber, city, country, address, datecreated,
                        active, default_currency, addedfrom)
                       SELECT n, {sql.cat("'Client '", sql.pad(n, 5), "' '",
                                          sql.pick("n % 5", ['Alfa', 'Delta', 'Nova', 'Terra', 'Vest']), "' SRL'")},
                              {sql.cat("'RO'", sql.text("10000000 + n"))}, {sql.cat("'07'", sql.pad(n, 8))},
                              'Cluj-Napoca', 'RO', {sql.cat("'Str. Exemplu '", t)}, {sql.days_ago("n % 2000", True)},
                              true, 1, :admin
                       FROM bench_n WHERE n <= :clients"""),
        ("contacts", f"""INSERT INTO tblcontacts (userid, is_primary, firstname, lastname, email, phonenumber, datecreated,
                         active, invoice_emails, estimate_emails, contract_emails)
                        SELECT n, true, 'Maria', {sql.cat("'Pop'", t)},
                               {sql.cat("'contact'", t, "'@client'", t, "'.example'")}, {sql.cat("'+4072'", sql.pad(n, 7))},
                               CURRENT_TIMESTAMP, true, true, true, true
                        FROM bench_n WHERE n <= :clients"""),
        ("invoices", f"""INSERT INTO tblinvoices (id, clientid, number, prefix, number_format, formatted_number, datecreated,
                         date, duedate, currency, subtotal, total_tax, total, status, sent, addedfrom, sale_agent,
                         discount_percent, discount_total, recurring, cycles, total_cycles, cancel_overdue_reminders,
                         custom_recurring, show_shipping_on_invoice, show_quantity_as, include_shipping)
                        SELECT n, 1 + (n % :clients) * 7919 % :clients, n, 'INV-', 1, {sql.cat("'INV-'", sql.pad(n, 7))},
                               {sql.days_ago("n % 1095", True)}, {sql.days_ago("n % 1095")}, {sql.days_ago("n % 1095 - 30")},
                               1, 100 + n % 5000, (100 + n % 5000) * 0.19, (100 + n % 5000) * 1.19,
                               {sql.pick("n % 6", [1, 2, 3, 4, 5, 2])}, true, :admin, :admin, 0, 0, 0, 0, 0,
                               false, false, true, 1, false
                        FROM bench_n WHERE n <= :invoices"""),
        ("leads", f"""INSERT INTO tblleads (id, name, company, email, phonenumber, dateadded, addedfrom, lead_value,
                      is_opportunity, lost, junk, leadorder, is_public)
                     SELECT n, {sql.cat(sql.pick("n % 5", ['Andrei', 'Ioana', 'Mihai', 'Elena', 'Radu']), "' Lead'", t)},
                            {sql.cat("'Prospect '", t, "' SRL'")}, {sql.cat("'lead'", t, "'@prospect'", t, "'.example'")},
                            {sql.cat("'+4074'", sql.pad(n, 7))}, {sql.days_ago("n % 900", True)}, :admin, 1000,
                            n % 4 = 0, false, false, 1, false
                     FROM bench_n WHERE n <= :leads"""),
    ]


# (what, URL): each searched as a person types it into the box
SEARCHES = [
    ("invoices grid, number", "/admin/invoices/?search=INV-0123456"),
    ("invoices grid, client name", "/admin/invoices/?search=Client+01234"),
    ("invoices grid, number + client", "/admin/invoices/?search=01234+Delta"),
    ("leads grid, name", "/admin/leads/?search=Lead123457"),
    ("leads grid, email", "/admin/leads/?search=lead123457@"),
    ("leads grid, phone", "/admin/leads/?search=0123457"),
    ("clients grid, company", "/admin/clients/?search=Client+01234"),
    ("contacts grid, email", "/admin/clients/contacts/?search=contact1234@"),
    ("Ctrl+K, invoice number", "/admin/search/?q=INV-0123456&format=json"),
    ("Ctrl+K, lead name", "/admin/search/?q=Lead123457&format=json"),
    ("Ctrl+K, email", "/admin/search/?q=lead123457@prospect&format=json"),
    ("Ctrl+K, phone", "/admin/search/?q=0123457&format=json"),
    ("Ctrl+K, client", "/admin/search/?q=Client+01234&format=json"),
]


def numbers(conn, upto: int) -> None:
    """bench_n(n): 1..upto, from a cross join of the digits (the same SQL on the three databases)."""
    conn.exec_driver_sql("CREATE TABLE bench_d (d INTEGER NOT NULL)")
    conn.exec_driver_sql("INSERT INTO bench_d (d) VALUES " + ", ".join(f"({i})" for i in range(10)))
    conn.exec_driver_sql("CREATE TABLE bench_n (n INTEGER NOT NULL PRIMARY KEY)")
    digits = len(str(max(upto - 1, 1)))
    tables = ", ".join(f"bench_d d{i}" for i in range(digits))
    value = " + ".join(f"d{i}.d * {10 ** i}" for i in range(digits))
    conn.exec_driver_sql(f"INSERT INTO bench_n (n) SELECT n FROM (SELECT {value} + 1 AS n FROM {tables}) x "
                         f"WHERE n <= {upto}")


def fill(engine, args, admin_id: int) -> None:
    from sqlalchemy import text

    params = {"admin": admin_id, "clients": args.clients, "invoices": args.invoices, "leads": args.leads}
    with engine.begin() as conn:
        t0 = time.perf_counter()
        numbers(conn, max(args.clients, args.invoices, args.leads))
        log(f"  numbers: {time.perf_counter() - t0:.1f} s")
        for name, sql in fill_statements(Sql(engine.dialect.name)):
            t0 = time.perf_counter()
            conn.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
            log(f"  {name}: {time.perf_counter() - t0:.1f} s")
        conn.exec_driver_sql("DROP TABLE bench_n")
        conn.exec_driver_sql("DROP TABLE bench_d")
        if engine.dialect.name == "postgresql":
            for table, pk in TABLES:
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{pk}'), (SELECT max({pk}) FROM {table}))")


def analyze(engine) -> None:
    """The planner's statistics, as a production database has them (PostgreSQL: VACUUM too, the
    state autovacuum reaches a minute after a bulk insert)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("VACUUM ANALYZE")
        elif engine.dialect.name == "mysql":
            conn.exec_driver_sql("ANALYZE TABLE " + ", ".join(t for t, _ in TABLES))
        else:
            conn.exec_driver_sql("ANALYZE")


def fresh_database(url: str, force: bool):
    """Drop and create the database of ``url``; return a function that drops it."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    u = make_url(url)
    name = u.database or ""
    if "bench" not in Path(name).name and not force:
        sys.exit(f"Refusing to drop database {name!r}: its name does not contain 'bench' (use --force-drop).")
    if u.get_backend_name() == "sqlite":
        Path(name).unlink(missing_ok=True)
        return lambda: Path(name).unlink(missing_ok=True)
    server = u.set(database="postgres" if u.get_backend_name() == "postgresql" else "mysql")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    quoted = f'"{name}"' if u.get_backend_name() == "postgresql" else f"`{name}`"

    def recreate(create=True):
        with admin.connect() as conn:
            force_drop = " WITH (FORCE)" if u.get_backend_name() == "postgresql" else ""
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted}{force_drop}")
            if create:
                conn.exec_driver_sql(f"CREATE DATABASE {quoted}" + (
                    " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" if u.get_backend_name() == "mysql" else ""))

    recreate()
    return lambda: recreate(create=False)


def rows_shown(url: str, body: str) -> int:
    if "format=json" in url:
        return body.count('"url"')
    return body.count('name="rowid"')


def measure(app, args) -> bool:
    from crm.core.extensions import db

    client = app.test_client()
    login(client)
    ok = True
    log(f"\n{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} before")
    log(f"\n{'search':<32}{'median ms':>10}{'p95 ms':>9}{'rows':>6}")
    for what, url in [(u, u) for u in args.search] if args.search else SEARCHES:
        times, body = [], ""
        for i in range(args.warmup + args.repeat):
            with app.app_context():
                t0 = time.perf_counter()
                resp = client.get(url)
                elapsed = time.perf_counter() - t0
                db.session.remove()
            if resp.status_code != 200:
                sys.exit(f"{url}: HTTP {resp.status_code}")
            body = resp.get_data(as_text=True)
            if i >= args.warmup:
                times.append(elapsed * 1000)
        med = statistics.median(times)
        p95 = sorted(times)[min(len(times) - 1, math.ceil(len(times) * 0.95) - 1)]
        ok &= med <= args.max_median_ms
        log(f"{what:<32}{med:>10.1f}{p95:>9.1f}{rows_shown(url, body):>6}")
    log(f"\nload average {' '.join(f'{x:.2f}' for x in os.getloadavg())} after")
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=sorted(DEFAULT_URLS), default="postgres")
    parser.add_argument("--url", help="default: by --db, see above")
    parser.add_argument("--force-drop", action="store_true")
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--max-median-ms", type=float, default=50.0)
    parser.add_argument("--keep", action="store_true", help="keep the filled database (and reuse it with --reuse)")
    parser.add_argument("--reuse", action="store_true", help="measure the database of an earlier --keep run")
    parser.add_argument("--search", action="append", metavar="URL",
                        help="measure this URL instead of the standard searches (repeatable), e.g. "
                             "'/admin/invoices/?search=INV-0' or '/admin/search/?q=INV-01&format=json'")
    args = parser.parse_args(argv)
    url = args.url or DEFAULT_URLS[args.db]
    cleanup = (lambda: None) if args.reuse else fresh_database(url, args.force_drop)
    from flask_migrate import upgrade

    from crm.app import create_app
    from crm.cli import _admin_account
    from crm.core.extensions import db
    from crm.core.models.settings import Staff

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "TESTING": False,
                      "CRM_ADMIN_EMAIL": ADMIN_EMAIL, "CRM_ADMIN_PASSWORD": ADMIN_PASSWORD})
    try:
        with app.app_context():
            engine = db.engine
            log(f"Database: {db_version(engine)}")
            if not args.reuse:
                upgrade()
                _admin_account(ADMIN_EMAIL, ADMIN_PASSWORD)
                admin_id = db.session.query(Staff.staffid).filter_by(email=ADMIN_EMAIL.lower()).scalar()
                db.session.remove()
                t0 = time.perf_counter()
                log(f"Filling {args.invoices:,} invoices, {args.leads:,} leads, {args.clients:,} clients and contacts:")
                fill(engine, args, admin_id)
                analyze(engine)
                log(f"filled and analyzed in {time.perf_counter() - t0:.1f} s")
        ok = measure(app, args)
    finally:
        if not (args.keep or args.reuse):
            cleanup()
    if not ok:
        log(f"\nabove target: a median over {args.max_median_ms} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
