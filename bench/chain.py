#!/usr/bin/env python
"""Benchmark of the Lead → Cash chain, without PDF or email.

    python bench/chain.py --db sqlite|postgres [--chains 300] [--min-rate 100] [--workers N]

One chain, each step through ``crm.core.registry.run`` (the code behind the grid buttons, the
API's action endpoints and the CLI: permission, parameters, precondition, one transaction,
activity log, business events):

1. a lead is created by the API's own code behind POST /api/v1/leads (custom fields, references
   checked, one transaction);
2. ``convert_to_opportunity``; 3. ``create_proposal`` on the opportunity;
4. the proposal gets 5 lines with two VAT rates (19 % and 9 %) and a 10 % discount before tax through
   the code behind PATCH /api/v1/proposals/<id> (lines replaced, totals by the shared rule);
5. ``mark_sent`` (the chain sends no email) and ``accept``;
6. ``convert_to_invoice`` (which makes the lead a customer with its contact);
7. ``record_payment`` of 40 % of the total, then 8. of the rest — the invoice must end Paid.

The database is fresh (SQLite temp file, or the PostgreSQL database of --url, default crm_bench,
dropped and recreated) and migrated with Alembic; the planner's statistics are taken after the
--warmup chains (200), as a live database with some history has them: taken on a nearly empty
database they make PostgreSQL scan whole tables that then grow during the run. Jobs run inline
(no Redis). Prints chains/s over --chains chains after --warmup; with --workers N, then N
processes at once running --chains chains each (the server's rate; the exit status then follows
it); exit status 1 below --min-rate. With PostgreSQL on this host it also prints the server
processes' CPU time per chain (/proc); --steps N, each step's CPU time and statements.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from invoice_list import analyze, db_version, fresh_database, log  # noqa: E402  (shared bench helpers)
from parallel import run_parallel  # noqa: E402
from server_cpu import server_cpu_seconds  # noqa: E402

WORKER_WARMUP = 20  # chains each --workers process runs before the timing (its own caches; the data is there)
NO_EMAIL = ("email_payment_receipt_to_client", "notifications_email_staff")
LINES = [  # description, qty, rate, VAT %
    ("Consulting day", "3", "1200.00", "19.00"),
    ("Licence, 12 months", "2", "499.90", "19.00"),
    ("Training handbook", "10", "45.50", "9.00"),
    ("On-site setup", "1", "850.00", "19.00"),
    ("Printed manuals", "4", "12.25", "9.00"),
]


def setup_reference_data():
    from crm.catalog.models import Currency, PaymentMode
    from crm.core import options
    from crm.core.extensions import db
    from crm.sales.models.clients import LeadSource, LeadStatus, Pipeline

    db.session.add_all([Currency(symbol="lei", name="RON", isdefault=True),
                        PaymentMode(name="Bank transfer", selected_by_default=True)])
    pipeline = Pipeline(name="Sales")
    db.session.add(pipeline)
    db.session.flush()
    db.session.add_all([LeadStatus(name="New", pipeline=pipeline.id, statusorder=1, isdefault=True),
                        LeadSource(name="Web")])
    for name in NO_EMAIL:  # "without PDF or email": no receipt or staff emails (and their PDFs)
        options.set(name, False)
    db.session.commit()


def one_chain(n: int, actor, refs: dict, mark=lambda step: None) -> None:
    """One chain; ``mark(step)`` is called after each step (--steps)."""
    from flask import g

    from crm.api import _build, _commit
    from crm.core.extensions import db
    from crm.core.registry import run
    from crm.sales.models.clients import Lead
    from crm.sales.models.documents import Invoice, Proposal

    # What POST /api/v1/leads does once the JSON is read: custom fields and references checked,
    # the row built, committed (lead.created and its subscribers run); the creator is the caller.
    g.api_user = actor
    lead = _build(Lead, {"name": f"Client Contact {n}", "company": f"Chain Buyer {n} SRL",
                         "email": f"buyer{n}@chain.example", "status": refs["status"], "source": refs["source"],
                         "lead_value": Decimal("5000.00")})
    db.session.add(lead)
    _commit("Lead", lead)
    mark("lead created (API)")
    run(Lead, lead.id, "convert_to_opportunity", actor)
    opp_id = db.session.query(Lead.id).filter_by(converted_from_lead=lead.id).scalar()
    mark("convert_to_opportunity")
    run(Lead, opp_id, "create_proposal", actor)
    mark("create_proposal")
    # What PATCH /api/v1/proposals/<id> with the lines does: lines and taxes replaced, totals recomputed.
    proposal = db.session.query(Proposal).filter_by(opportunity_id=opp_id).one()
    _build(Proposal, {"items": [{"description": d, "qty": Decimal(q), "rate": Decimal(r), "unit": "buc",
                                 "item_order": i, "taxes": [{"taxname": "TVA", "taxrate": Decimal(t)}]}
                                for i, (d, q, r, t) in enumerate(LINES, 1)],
                      "discount_percent": Decimal("10"), "discount_type": "before_tax"}, proposal)
    _commit("Proposal", proposal)
    mark("5 lines (API)")
    run(Proposal, proposal.id, "mark_sent", actor)  # sent without email: the benchmark sends none
    mark("mark_sent")
    run(Proposal, proposal.id, "accept", actor)
    mark("accept")
    run(Proposal, proposal.id, "convert_to_invoice", actor)
    invoice = db.session.get(Invoice, db.session.get(Proposal, proposal.id).invoice_id)
    mark("convert_to_invoice")
    first = (invoice.total * Decimal("0.4")).quantize(Decimal("0.01"))
    run(Invoice, invoice.id, "record_payment", actor, {"amount": str(first), "paymentmode": refs["mode"]})
    mark("record_payment (first)")
    run(Invoice, invoice.id, "record_payment", actor,
        {"amount": str(invoice.total - first), "paymentmode": refs["mode"]})
    invoice = db.session.get(Invoice, invoice.id)
    if invoice.status != 2:
        raise SystemExit(f"chain {n}: invoice ended with status {invoice.status}, not Paid (2)")
    db.session.remove()  # a fresh session per chain, as each request has
    mark("record_payment (rest)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--url", help="database URL (PostgreSQL: a database whose name contains 'bench')")
    parser.add_argument("--force-drop", action="store_true")
    parser.add_argument("--chains", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=200,
                        help="chains run before the planner statistics are taken and the timing starts")
    parser.add_argument("--min-rate", type=float, default=100.0, help="chains/s below which the exit status is 1")
    parser.add_argument("--profile", type=int, default=20, metavar="N",
                        help="after the timed run, profile N more chains to count function calls (0: skip)")
    parser.add_argument("--top", type=int, default=0, help="print the N costliest functions of the profile")
    parser.add_argument("--show-sql", action="store_true", help="print the statements of one chain")
    parser.add_argument("--steps", type=int, default=0, metavar="N",
                        help="then run N more chains and print each step's CPU time and statements")
    parser.add_argument("--workers", type=int, default=0,
                        help="then run --chains chains in each of this many processes at once (0: skip)")
    args = parser.parse_args(argv)

    url, cleanup = fresh_database(args)
    os.environ.pop("REDIS_URL", None)  # jobs inline: the chain itself enqueues none
    try:
        return measure(args, url)
    finally:
        cleanup()


class SqlCounter:
    """Counts the statements sent to the database and the time spent waiting on them."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.count, self.seconds, self.statements, self.keep = 0, 0.0, [], False
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["crm_bench_t0"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        self.seconds += time.perf_counter() - conn.info.pop("crm_bench_t0")
        if self.keep:
            self.statements.append(" ".join(statement.split())[:160])


def profile_chains(n0: int, count: int, actor, refs: dict, top: int) -> int:
    """Run ``count`` chains under cProfile; print the costliest functions; return calls per chain."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(n0, n0 + count):
        one_chain(n, actor(), refs)
    profiler.disable()
    stats = pstats.Stats(profiler)
    if os.environ.get("CHAIN_PROFILE_DUMP"):
        stats.dump_stats(os.environ["CHAIN_PROFILE_DUMP"])
    if top:
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)
    return round(stats.total_calls / count)


def time_steps(n0: int, count: int, actor, refs: dict, sql: SqlCounter) -> None:
    """Each step's CPU time of this process and statements, averaged over ``count`` chains."""
    totals: dict[str, list] = {}
    last = [time.process_time(), sql.count]

    def mark(step):
        now = [time.process_time(), sql.count]
        total = totals.setdefault(step, [0.0, 0])
        total[0] += now[0] - last[0]
        total[1] += now[1] - last[1]
        last[:] = [time.process_time(), sql.count]

    for n in range(n0, n0 + count):
        chain_actor = actor()
        last[:] = [time.process_time(), sql.count]
        one_chain(n, chain_actor, refs, mark)
    for step, (cpu, statements) in totals.items():
        log(f"step {step:<24} {1000 * cpu / count:6.1f} ms CPU  {statements / count:5.1f} statements")


def measure(args, url) -> int:
    from flask_migrate import upgrade
    from sqlalchemy.engine import make_url

    from crm.app import create_app
    from crm.catalog.models import PaymentMode
    from crm.cli import _admin_account
    from crm.core.extensions import db
    from crm.core.models.settings import Staff
    from crm.sales.models.clients import LeadSource, LeadStatus

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False})
    with app.app_context():
        upgrade()
        _admin_account("bench-admin@bench.example", "bench password 1234")
        setup_reference_data()
        refs = {"status": db.session.query(LeadStatus.id).scalar(), "source": db.session.query(LeadSource.id).scalar(),
                "mode": str(db.session.query(PaymentMode.id).scalar())}
        admin_id = db.session.query(Staff.staffid).filter_by(email="bench-admin@bench.example").scalar()
        log(f"database: {db_version(db.engine)}")
        sql = SqlCounter(db.engine)

        def actor():
            return db.session.get(Staff, admin_id)

        for n in range(args.warmup):
            one_chain(n, actor(), refs)
        db.session.remove()
        analyze(db.engine)  # planner statistics, as autovacuum keeps them on a live database
        if args.show_sql:  # the statements of one chain, in order
            sql.keep = True
            one_chain(args.warmup, actor(), refs)
            sql.keep = False
            for i, statement in enumerate(sql.statements, 1):
                log(f"{i:4d} {statement}")
        n0 = args.warmup + 1
        sql.count, sql.seconds = 0, 0.0
        load_before = os.getloadavg()[0]
        local_server = args.db == "postgres" and make_url(url).host in (None, "", "127.0.0.1", "localhost", "::1")
        server_start = server_cpu_seconds() if local_server else None
        start, cpu_start = time.perf_counter(), time.process_time()
        for n in range(n0, n0 + args.chains):
            one_chain(n, actor(), refs)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        server_cpu = server_cpu_seconds() - server_start if server_start is not None else None
        load_after = os.getloadavg()[0]
        statements, sql_seconds = sql.count / args.chains, sql.seconds
        calls = profile_chains(n0 + args.chains, args.profile, actor, refs, args.top) if args.profile else None
        n0 += args.chains + args.profile
        if args.steps:
            time_steps(n0, args.steps, actor, refs, sql)
            n0 += args.steps
    concurrent = None
    if args.workers:  # each process its own range of chain numbers (leads, companies, emails)
        span = args.warmup + args.chains
        concurrent = run_parallel(run_chains, [(url, admin_id, refs, n0 + w * span, args.chains, WORKER_WARMUP)
                                               for w in range(args.workers)])
    rate, per = args.chains / elapsed, 1000 / args.chains
    log(f"{args.chains} chains in {elapsed:.2f} s: {rate:.1f} chains/s ({per * elapsed:.1f} ms per chain)")
    log(f"per chain: {statements:.1f} SQL statements, {per * sql_seconds:.1f} ms waiting on the database, "
        f"{per * (elapsed - sql_seconds):.1f} ms in Python (wall), {per * cpu:.1f} ms CPU of this process"
        + (f", {calls} Python function calls (cProfile, {args.profile} chains)" if calls else ""))
    if server_cpu is not None:
        log(f"database server on this host: {per * server_cpu:.1f} ms CPU per chain (processes named postgres); "
            f"with this process, {per * (server_cpu + cpu):.1f} ms CPU per chain: at most "
            f"{os.cpu_count() * args.chains / (server_cpu + cpu):.0f} chains/s on {os.cpu_count()} CPUs")
    log(f"load average (1 min) {load_before:.2f} before, {load_after:.2f} after, on {os.cpu_count()} CPUs")
    if concurrent:
        done, seconds, load = concurrent
        rate = done / seconds
        log(f"{args.workers} processes at once: {done} chains in {seconds:.2f} s: {rate:.1f} chains/s "
            f"(load average {load:.2f} after)")
    if rate < args.min_rate:
        log(f"FAIL: below {args.min_rate:g} chains/s")
        return 1
    return 0


def run_chains(job, ready) -> int:
    """One process (run_parallel): its warm-up chains, then its timed ones once all are ready."""
    url, admin_id, refs, n0, count, warmup = job
    from crm.app import create_app
    from crm.core.extensions import db
    from crm.core.models.settings import Staff

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False})
    with app.app_context():
        for n in range(n0, n0 + warmup):
            one_chain(n, db.session.get(Staff, admin_id), refs)
        ready()
        for n in range(n0 + warmup, n0 + warmup + count):
            one_chain(n, db.session.get(Staff, admin_id), refs)
    return count


if __name__ == "__main__":
    sys.exit(main())
