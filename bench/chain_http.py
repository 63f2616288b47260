#!/usr/bin/env python
"""Benchmark of the Lead → Cash chain over HTTP on the embedded default (SQLite, the demo, no Redis).

    python bench/chain_http.py [--chains 40] [--warmup 5] [--jobs thread|inline|both]

A fresh SQLite database (temp folder) is migrated and filled with the demo (`flask crm demo-data`:
receipts are emailed with their PDF, as in the demo); then the app is served as `make run` serves
it (`flask run`, threaded, CRM_SANDBOX=1) in a process of its own, and one client drives each
chain through the HTTP API with a bearer token, one request per step, on a kept-alive connection:

1. POST /api/v1/leads; 2. POST .../leads/<id>/actions/convert_to_opportunity (its answer names the
opportunity); 3. create_proposal; 4. PATCH /api/v1/proposals/<id> with 5 lines (two VAT rates);
5. mark_sent; 6. accept; 7. convert_to_invoice; 8. record_payment of 40 %; 9. record_payment of the rest.

Prints each step's median and p95 (wall time at the client) and the chains per second, for the
job thread (the default) and/or ``JOBS_INLINE=1`` (the jobs run in the request after its commit,
as before); exit status 1 when, with the thread, a step's median is above --max-step-ms (25) or
the rate below --min-rate (10). At the end it waits for the outbox to be empty (every receipt
job ran) and checks that each ran exactly once.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
EMAIL, PASSWORD = "bench@crmconnect.test", "bench-password-1"
LINES = [("Consulting day", "3", "1200.00", "19.00"), ("Licence, 12 months", "2", "499.90", "19.00"),
         ("Training handbook", "10", "45.50", "9.00"), ("On-site setup", "1", "850.00", "19.00"),
         ("Printed manuals", "4", "12.25", "9.00")]
STEPS = ["lead created", "convert_to_opportunity", "create_proposal", "5 lines (PATCH)", "mark_sent",
         "accept", "convert_to_invoice", "record_payment (40 %)", "record_payment (rest)"]


def log(msg: str) -> None:
    print(msg, flush=True)


def _env(db_file: Path, inline: bool) -> dict:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{db_file}", CRM_SANDBOX="1", JOBS_INLINE="1" if inline else "0",
               CRM_ADMIN_EMAIL=EMAIL, CRM_ADMIN_PASSWORD=PASSWORD, PYTHONPATH=str(ROOT))
    env.pop("REDIS_URL", None)
    return env


def prepare(db_file: Path) -> None:
    env = _env(db_file, True)
    t0 = time.perf_counter()
    for cmd in (["db", "upgrade"], ["crm", "demo-data"], ["crm", "create-admin", "--email", EMAIL,
                                                          "--password", PASSWORD]):
        subprocess.run(FLASK + cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    log(f"migrated and demo loaded in {time.perf_counter() - t0:.1f} s")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Content-Type": "application/json"}

    def call(self, method: str, path: str, body=None) -> dict:
        self.conn.request(method, path, body=None if body is None else json.dumps(body), headers=self.headers)
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status >= 400:
            raise SystemExit(f"{method} {path}: {resp.status} {data[:300]!r}")
        return json.loads(data) if data else {}

    def login(self) -> None:
        token = self.call("POST", "/api/v1/auth/token", {"email": EMAIL, "password": PASSWORD})["token"]
        self.headers["Authorization"] = f"Bearer {token}"


def serve(db_file: Path, inline: bool):
    port = _free_port()
    proc = subprocess.Popen(FLASK + ["run", "--port", str(port), "--no-reload", "--no-debugger"], cwd=ROOT,
                            env=_env(db_file, inline), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def references(db_file: Path) -> dict:
    with sqlite3.connect(db_file) as con:
        one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
        return {"status": one("SELECT id FROM tblleads_status ORDER BY statusorder LIMIT 1"),
                "source": one("SELECT id FROM tblleads_sources LIMIT 1"),
                "mode": one("SELECT id FROM tblpayment_modes WHERE active = 1 ORDER BY id LIMIT 1")}


def created(answer: dict, resource: str) -> int:
    """The id of the record of ``resource`` an action's answer says it created (no read needed)."""
    ids = [c["id"] for c in answer.get("created", []) if c.get("resource") == resource]
    if not ids:
        raise SystemExit(f"the action's answer names no {resource}: {answer}")
    return ids[0]


def one_chain(api: Api, n: int, refs: dict, times: list) -> None:
    marks = [time.perf_counter()]

    def step():
        marks.append(time.perf_counter())

    lead = api.call("POST", "/api/v1/leads", {"name": f"HTTP Contact {n}", "company": f"HTTP Buyer {n} SRL",
                                              "email": f"http{n}@chain.example", "status": refs["status"],
                                              "source": refs["source"], "lead_value": "5000.00"})
    step()
    opp = created(api.call("POST", f"/api/v1/leads/{lead['id']}/actions/convert_to_opportunity", {}), "leads")
    step()
    proposal = created(api.call("POST", f"/api/v1/leads/{opp}/actions/create_proposal", {}), "proposals")
    step()
    api.call("PATCH", f"/api/v1/proposals/{proposal}",
             {"items": [{"description": d, "qty": q, "rate": r, "unit": "buc", "item_order": i,
                         "taxes": [{"taxname": "TVA", "taxrate": t}]} for i, (d, q, r, t) in enumerate(LINES, 1)],
              "discount_percent": "10", "discount_type": "before_tax"})
    step()
    api.call("POST", f"/api/v1/proposals/{proposal}/actions/mark_sent", {})
    step()
    api.call("POST", f"/api/v1/proposals/{proposal}/actions/accept", {})
    step()
    invoice_id = created(api.call("POST", f"/api/v1/proposals/{proposal}/actions/convert_to_invoice", {}), "invoices")
    step()
    total = Decimal(api.call("GET", f"/api/v1/invoices/{invoice_id}")["total"])
    marks[-1] = time.perf_counter()  # the read of the total is not a step
    first = (total * Decimal("0.4")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    api.call("POST", f"/api/v1/invoices/{invoice_id}/actions/record_payment",
             {"amount": str(first), "paymentmode": refs["mode"]})
    step()
    api.call("POST", f"/api/v1/invoices/{invoice_id}/actions/record_payment",
             {"amount": str(total - first), "paymentmode": refs["mode"]})
    step()
    times.append([b - a for a, b in zip(marks, marks[1:])])


def outbox(db_file: Path) -> tuple[int, int, int]:
    with sqlite3.connect(db_file) as con:
        return con.execute("SELECT count(*), sum(dispatched_at IS NULL), coalesce(max(attempts), 0) "
                           "FROM tbljob_outbox").fetchone()


def run(db_file: Path, inline: bool, args) -> tuple[dict, float]:
    proc, port = serve(db_file, inline)
    try:
        api = Api(port)
        api.login()
        refs = references(db_file)
        times: list = []
        base = int(time.time() * 1000) % 10_000_000 * 100
        for n in range(args.warmup):
            one_chain(api, base + n, refs, [])
        t0 = time.perf_counter()
        for n in range(args.warmup, args.warmup + args.chains):
            one_chain(api, base + n, refs, times)
        rate = args.chains / (time.perf_counter() - t0)
        deadline = time.time() + 120
        while (pending := outbox(db_file)[1] or 0) and time.time() < deadline:
            time.sleep(0.2)
        total, pending, attempts = outbox(db_file)
        log(f"outbox: {total} job(s), {pending or 0} pending at the end, at most {attempts} attempt(s) each")
        if pending or attempts > 1:
            raise SystemExit("a job was lost or run twice")
    finally:
        proc.terminate()
        proc.wait(30)
    per_step = {name: [t[i] * 1000 for t in times] for i, name in enumerate(STEPS)}
    return per_step, rate


def report(label: str, per_step: dict, rate: float) -> float:
    log(f"\n{label}: {rate:.1f} chains/s (one client, each step one HTTP request)")
    log(f"{'step':<26}{'median ms':>10}{'p95 ms':>9}")
    worst = 0.0
    for name, values in per_step.items():
        med = statistics.median(values)
        p95 = sorted(values)[max(0, int(len(values) * 0.95) - 1)]
        worst = max(worst, med)
        log(f"{name:<26}{med:>10.1f}{p95:>9.1f}")
    return worst


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--jobs", choices=("thread", "inline", "both"), default="both")
    parser.add_argument("--max-step-ms", type=float, default=25.0)
    parser.add_argument("--min-rate", type=float, default=10.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db_file = Path(tmp) / "chain_http.sqlite"
        prepare(db_file)
        failed = False
        for mode in (("inline", "thread") if args.jobs == "both" else (args.jobs,)):
            per_step, rate = run(db_file, mode == "inline", args)
            worst = report("JOBS_INLINE=1 (jobs in the request)" if mode == "inline" else "job thread (default)",
                           per_step, rate)
            if mode == "thread" and (worst > args.max_step_ms or rate < args.min_rate):
                failed = True
        if failed:
            log(f"\nbelow target: every step ≤ {args.max_step_ms} ms median and ≥ {args.min_rate} chains/s")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
