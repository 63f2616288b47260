#!/usr/bin/env python
"""Every large grid against a plain Flask-Admin view of the same table, side by side in one run.

    python bench/grids.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench]
                          [--fill 1000000] [--repeat 15] [--warmup 3] [--max-ratio 1.0] [--only invoices,leads]

The database is the one bench/search.py fills and keeps (``search.py --keep``: 1,000,000 invoices,
200,000 leads, 20,000 clients). ``--fill N`` first adds N proposals, estimates (sales orders),
purchase orders, goods receipts and delivery notes with ``INSERT ... SELECT generate_series`` to the
tables that have fewer than N rows (then VACUUM ANALYZE).

For each grid, four pages: the first page and a filtered page (``?status=…``; the peer:
Flask-Admin's column filter on the same column), at 20 and 100 rows. Each is requested through
the Flask test client of this app (signed in as the administrator, row actions shown) and of the
peer (bench/peer_app.py: automapped, one plain ModelView per table, sorted by the primary key
descending like ours (`column_default_sort`)), alternately, a fresh app context per request: --warmup requests, then
--repeat timed each. It prints the medians, the ratio ours/peer, the query count of each page
(ours must be the same at 20 and 100 rows of a page) and the HTML size, and checks both show the same
number of rows. Exit status 1 when a ratio is above --max-ratio or our query count varies.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from invoice_list import ADMIN_EMAIL, ADMIN_PASSWORD, analyze, db_version, log, login  # noqa: E402
from peer_app import create_peer_app  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench"

# (grid, our URL, table, filter column, filter value)
GRIDS = [
    ("invoices", "/admin/invoices/", "tblinvoices", "status", "4"),
    ("leads", "/admin/leads/", "tblleads", "lost", "0"),
    ("clients", "/admin/clients/", "tblclients", "active", "1"),
    ("proposals", "/admin/proposals/", "tblproposals", "status", "4"),
    ("estimates (sales orders)", "/admin/estimates/", "tblestimates", "status", "2"),
    ("purchase orders", "/admin/purchase/purchase_order/", "tblpur_orders", "status", "2"),
    ("goods receipts", "/admin/warehouse/manage_purchase/", "tblgoods_receipt", "approval", "1"),
    ("delivery notes", "/admin/warehouse/manage_delivery/", "tblgoods_delivery", "approval", "1"),
]
PEER_FILTERS = {table: col for _g, _u, table, col, _v in GRIDS}

FILL = {
    "tblproposals": """INSERT INTO tblproposals (subject, datecreated, subtotal, total_tax, total, discount_percent,
            discount_total, show_quantity_as, currency, open_till, date, rel_id, rel_type, proposal_to, email,
            allow_comments, status, pipeline_order, is_expiry_notified, number, formatted_number, addedfrom)
        SELECT 'Offer ' || n, now(), 100 + n % 5000, (100 + n % 5000) * 0.19, (100 + n % 5000) * 1.19, 0, 0, 1, 1,
               current_date - (n % 1095) + 30, current_date - (n % 1095), 1 + n % :clients, 'customer',
               'Client ' || (1 + n % :clients), 'p' || n || '@client.example', true, 1 + n % 6, 0, false,
               n, 'PRO-' || lpad(n::text, 7, '0'), :admin
        FROM generate_series(CAST(:start AS integer), CAST(:rows AS integer)) n""",
    "tblestimates": """INSERT INTO tblestimates (sent, clientid, number, prefix, number_format, formatted_number,
            datecreated, date, expirydate, currency, subtotal, total_tax, total, status, discount_percent,
            discount_total, show_shipping_on_estimate, show_quantity_as, is_expiry_notified, include_shipping,
            addedfrom, sale_agent)
        SELECT false, 1 + (n::bigint * 7919) % :clients, n, 'EST-', 1, 'EST-' || lpad(n::text, 7, '0'), now(),
               current_date - (n % 1095), current_date - (n % 1095) + 30, 1, 100 + n % 5000,
               (100 + n % 5000) * 0.19, (100 + n % 5000) * 1.19, 1 + n % 5, 0, 0, true, 1, false, false,
               :admin, :admin
        FROM generate_series(CAST(:start AS integer), CAST(:rows AS integer)) n""",
    "tblpur_orders": """INSERT INTO tblpur_orders (pur_order_name, pur_order_number, order_date, status, order_status,
            delivery_status, datecreated, delivery_date, subtotal, total_tax, total, discount_total, addedfrom,
            currency)
        SELECT 'Order ' || n, 'PO-' || lpad(n::text, 7, '0'), current_date - (n % 1095), 1 + n % 3, 1, 0, now(),
               current_date - (n % 1095) + 14, 100 + n % 5000, (100 + n % 5000) * 0.19,
               (100 + n % 5000) * 1.19, 0, :admin, 1
        FROM generate_series(CAST(:start AS integer), CAST(:rows AS integer)) n""",
    "tblgoods_receipt": """INSERT INTO tblgoods_receipt (goods_receipt_code, supplier_name, date_c, date_add,
            total_tax_money, total_goods_money, value_of_inventory, total_money, approval, addedfrom)
        SELECT 'NK' || lpad(n::text, 7, '0'), 'Vendor ' || (n % 500), current_date - (n % 1095),
               current_date - (n % 1095), 19, 100, 100, 119, n % 2, :admin
        FROM generate_series(CAST(:start AS integer), CAST(:rows AS integer)) n""",
    "tblgoods_delivery": """INSERT INTO tblgoods_delivery (goods_delivery_code, customer_code, customer_name, date_c,
            date_add, approval, addedfrom, sub_total, total_discount, after_discount, total_money,
            type_of_delivery, delivery_status, flag_export_warehouse, shipping_fee)
        SELECT 'XK' || lpad(n::text, 7, '0'), 1 + n % :clients, 'Client ' || (1 + n % :clients),
               current_date - (n % 1095), current_date - (n % 1095), n % 2, :admin, 100, 0, 100, 100,
               'total', 'ready_to_deliver', 0, 0
        FROM generate_series(CAST(:start AS integer), CAST(:rows AS integer)) n""",
}


def fill(engine, rows: int) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:
        admin = conn.execute(text("SELECT staffid FROM tblstaff WHERE email = :e"), {"e": ADMIN_EMAIL.lower()}).scalar()
        clients = conn.execute(text("SELECT count(*) FROM tblclients")).scalar()
    filled = False
    for table, sql in FILL.items():
        with engine.begin() as conn:
            have = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            if have >= rows:
                continue
            t0 = time.perf_counter()
            params = {"start": have + 1, "rows": rows, "admin": admin, "clients": clients}
            conn.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
            log(f"  {table}: {rows - have:,} rows in {time.perf_counter() - t0:.1f} s")
            filled = True
    if filled:
        analyze(engine)


class Counter:
    """Statements run by this thread (the requests), not by the app's background job thread."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.n, self.thread = 0, threading.get_ident()
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args):
        if threading.get_ident() == self.thread:
            self.n += 1


def timed(app, client, url, session_remove, counter):
    with app.app_context():
        before = counter.n
        t0 = time.perf_counter()
        resp = client.get(url)
        elapsed = (time.perf_counter() - t0) * 1000
        session_remove()
    if resp.status_code != 200:
        sys.exit(f"{url}: HTTP {resp.status_code}")
    return elapsed, counter.n - before, resp.get_data(as_text=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--fill", type=int, default=0, help="fill the other document tables up to N rows first")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--max-ratio", type=float, default=1.0)
    parser.add_argument("--only", default="", help="comma-separated grid names (the first word)")
    args = parser.parse_args(argv)

    from sqlalchemy import text

    from crm.app import create_app
    from crm.core.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.url, "REDIS_URL": None, "TESTING": False,
                      "CRM_ADMIN_EMAIL": ADMIN_EMAIL, "CRM_ADMIN_PASSWORD": ADMIN_PASSWORD})
    with app.app_context():
        engine = db.engine
        log(f"Database: {db_version(engine)}")
        if args.fill:
            log(f"Filling the document tables up to {args.fill:,} rows:")
            fill(engine, args.fill)
        sizes = {}
        with engine.connect() as conn:
            for _g, _u, table, col, val in GRIDS:
                literal = {"lost": "false", "active": "true"}.get(col, val)  # the booleans
                sizes[table] = (conn.execute(text(f"SELECT count(*) FROM {table}")).scalar(),
                                conn.execute(text(f"SELECT count(*) FROM {table} WHERE {col} = {literal}")).scalar())
        ours_counter = Counter(engine)
    peer = create_peer_app(args.url, PEER_FILTERS)
    peer_db = peer.extensions["peer_db"]
    with peer.app_context():
        peer_counter = Counter(peer_db.engine)

    ours_client, peer_client = app.test_client(), peer.test_client()
    login(ours_client)
    only = {o.strip() for o in args.only.split(",") if o.strip()}
    ok = True
    log(f"\n{'grid':<26}{'rows':>10}  {'page':<13}{'ours ms':>8}{'peer ms':>8}{'ratio':>7}"
        f"{'q ours':>7}{'q peer':>7}{'KB ours':>8}{'KB peer':>8}")
    for grid, our_url, table, col, val in GRIDS:
        if only and grid.split()[0] not in only:
            continue
        total, matching = sizes[table]
        for label, ours_q, peer_q in (("first", "", ""), (f"{col}={val}", f"{col}={val}&",
                                                           f"flt0_0={val}&")):
            our_counts = set()
            for size in (20, 100):
                urls = (f"{our_url}?{ours_q}page_size={size}", f"/admin/{table}/?{peer_q}page_size={size}")
                times = ([], [])
                for i in range(args.warmup + args.repeat):
                    res = (timed(app, ours_client, urls[0], db.session.remove, ours_counter),
                           timed(peer, peer_client, urls[1], peer_db.session.remove, peer_counter))
                    if i >= args.warmup:
                        times[0].append(res[0][0])
                        times[1].append(res[1][0])
                    our_counts.add(res[0][1])
                rows = [r[2].count('name="rowid"') for r in res]
                if rows[0] != rows[1] or rows[0] != min(size, matching if label != "first" else total):
                    log(f"  {grid} {label} {size}: rows shown ours {rows[0]}, peer {rows[1]}")
                    ok = False
                med = [statistics.median(t) for t in times]
                ratio = med[0] / med[1]
                ok &= ratio <= args.max_ratio
                log(f"{grid:<26}{total:>10,}  {label + ' ' + str(size):<13}{med[0]:>8.1f}{med[1]:>8.1f}"
                    f"{ratio:>7.2f}{res[0][1]:>7}{res[1][1]:>7}{len(res[0][2]) / 1024:>8.0f}"
                    f"{len(res[1][2]) / 1024:>8.0f}")
            if len(our_counts) > 1:
                log(f"  {grid} {label}: query count varies with the page size: {sorted(our_counts)}")
                ok = False
    if not ok:
        log(f"\nabove target: a ratio over {args.max_ratio}, a varying query count or rows that differ")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
