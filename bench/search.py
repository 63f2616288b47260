#!/usr/bin/env python
"""Search at a million rows: the grids' search box and the search everywhere box (Ctrl+K) on PostgreSQL.

    python bench/search.py [--invoices 1000000] [--leads 200000] [--clients 20000] [--repeat 20]
                           [--url postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench] [--keep]

The database (default crm_bench; its name must contain "bench") is dropped, created and migrated
with Alembic (so it has the trigram indexes of migration srch2trgm0001), then filled in SQL by
``INSERT ... SELECT generate_series`` (not the ORM): clients with a contact each, invoices (one
client each, numbered INV-0000001...) and leads (name, company, email, phone), then VACUUM
ANALYZE. Each search runs through the Flask test client, signed in as the administrator, each
request in a fresh app context: --warmup requests, then --repeat timed; it prints the median, p95
and the rows the page shows. Exit status 1 when a median is above --max-median-ms (50).
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from invoice_list import (  # noqa: E402  (shared bench helpers)
    ADMIN_EMAIL, ADMIN_PASSWORD, analyze, db_version, fresh_database, log, login)

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench"

FILL = [
    ("currency", """INSERT INTO tblcurrencies (id, symbol, name, decimal_separator, thousand_separator, placement,
                    isdefault, exchange_rate) VALUES (1, 'lei', 'RON', ',', '.', 'after', true, 1)"""),
    ("clients", """INSERT INTO tblclients (userid, company, vat, phonenumber, city, country, address, datecreated,
                    active, default_currency, addedfrom)
                   SELECT n, 'Client ' || lpad(n::text, 5, '0') || ' ' || (ARRAY['Alfa','Delta','Nova','Terra','Vest'])[n % 5 + 1]
                            || ' SRL', 'RO' || (10000000 + n), '07' || lpad(n::text, 8, '0'), 'Cluj-Napoca', 'RO',
                          'Str. Exemplu ' || n, now() - (n % 2000) * interval '1 day', true, 1, :admin
                   FROM generate_series(1, :clients) n"""),
    ("contacts", """INSERT INTO tblcontacts (userid, is_primary, firstname, lastname, email, phonenumber, datecreated,
                     active, invoice_emails, estimate_emails, contract_emails)
                    SELECT n, true, 'Maria', 'Pop' || n, 'contact' || n || '@client' || n || '.example',
                           '+4072' || lpad(n::text, 7, '0'), now(), true, true, true, true
                    FROM generate_series(1, :clients) n"""),
    ("invoices", """INSERT INTO tblinvoices (id, clientid, number, prefix, number_format, formatted_number, datecreated,
                     date, duedate, currency, subtotal, total_tax, total, status, sent, addedfrom, sale_agent,
                     discount_percent, discount_total, recurring, cycles, total_cycles, cancel_overdue_reminders,
                     custom_recurring, show_shipping_on_invoice, show_quantity_as, include_shipping)
                    SELECT n, 1 + (n::bigint * 7919) % :clients, n, 'INV-', 1, 'INV-' || lpad(n::text, 7, '0'),
                           current_date - (n % 1095), current_date - (n % 1095), current_date - (n % 1095) + 30, 1,
                           100 + n % 5000, (100 + n % 5000) * 0.19, (100 + n % 5000) * 1.19,
                           (ARRAY[1,2,3,4,5,2])[n % 6 + 1], true, :admin, :admin, 0, 0, 0, 0, 0,
                           false, false, true, 1, false
                    FROM generate_series(1, :invoices) n"""),
    ("leads", """INSERT INTO tblleads (id, name, company, email, phonenumber, dateadded, addedfrom, lead_value,
                  is_opportunity, lost, junk, leadorder, is_public)
                 SELECT n, (ARRAY['Andrei','Ioana','Mihai','Elena','Radu'])[n % 5 + 1] || ' Lead' || n,
                        'Prospect ' || n || ' SRL', 'lead' || n || '@prospect' || n || '.example',
                        '+4074' || lpad(n::text, 7, '0'), now() - (n % 900) * interval '1 day', :admin, 1000,
                        n % 4 = 0, false, false, 1, false
                 FROM generate_series(1, :leads) n"""),
]

# (what, URL): each searched as a person types it into the box
SEARCHES = [
    ("invoices grid, number", "/admin/invoices/?search=INV-0123456"),
    ("invoices grid, client name", "/admin/invoices/?search=Client+01234"),
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


def fill(engine, args, admin_id: int) -> None:
    from sqlalchemy import text

    params = {"admin": admin_id, "clients": args.clients, "invoices": args.invoices, "leads": args.leads}
    with engine.begin() as conn:
        for name, sql in FILL:
            t0 = time.perf_counter()
            conn.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
            log(f"  {name}: {time.perf_counter() - t0:.1f} s")
        for table, pk in (("tblclients", "userid"), ("tblinvoices", "id"), ("tblleads", "id"),
                          ("tblcontacts", "id"), ("tblcurrencies", "id")):
            conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', '{pk}'), (SELECT max({pk}) FROM {table}))")


def rows_shown(url: str, body: str) -> int:
    if "format=json" in url:
        return body.count('"url"')
    return body.count('name="rowid"')


def measure(app, args) -> bool:
    from crm.core.extensions import db

    client = app.test_client()
    login(client)
    ok = True
    log(f"\n{'search':<30}{'median ms':>10}{'p95 ms':>9}{'rows':>6}")
    for what, url in SEARCHES:
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
        p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
        ok &= med <= args.max_median_ms
        log(f"{what:<30}{med:>10.1f}{p95:>9.1f}{rows_shown(url, body):>6}")
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--force-drop", action="store_true")
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--max-median-ms", type=float, default=50.0)
    parser.add_argument("--keep", action="store_true", help="keep the filled database (and reuse it with --reuse)")
    parser.add_argument("--reuse", action="store_true", help="measure the database of an earlier --keep run")
    args = parser.parse_args(argv)
    args.db = "postgres"

    if args.reuse:
        url, cleanup = args.url, (lambda: None)
    else:
        url, cleanup = fresh_database(args)
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
