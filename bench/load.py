#!/usr/bin/env python
"""A load test that holds (issue 18): the production layout on PostgreSQL and Redis, driven over HTTP
by simulated staff doing the daily mix, then checked for what must never happen.

    python bench/load.py [--duration 300] [--users 30]        # the full run
    python bench/load.py --duration 60 --users 10             # a quick one

Starts, as child processes it stops at the end: gunicorn with --web-workers (4) workers, --rq-workers
(2) `rq worker -w crm.jobs.worker.AppWorker` and the clock (`rq cron crm.jobs.cron`), as the Procfile
does, on the PostgreSQL database --db (crm_load: dropped, created, migrated, the demo loaded) and the
Redis database --redis (db 12 by default: emptied first). Then --users staff members (each its own
account; signed in through /login with its CSRF token as a browser is, and holding an API token for
what a script or the app's buttons would post) work for --duration seconds with a short pause
(--think) between tasks, each task drawn from the daily mix:

* grid: a grid page (leads, opportunities, clients, proposals, sales orders, invoices filtered by
  status, sorted, page 2, payments, delivery notes, stock), and grid search by name/number/email;
* ctrl-k: the search of every area (/admin/search/?q=…&format=json);
* lead: a new lead through the API;
* chain: lead → opportunity → proposal (5 lines) → sent → accepted → sales order → invoice, each
  step an API action whose answer names what it created;
* pay: a payment on an open invoice; two staff may pick the same invoice, the second is refused
  rather than paid twice (the amount is what the invoice showed as due when read);
* issue: a draft invoice of stock items, issued: several staff at once take numbers from the series;
* deliver: a delivery note for an issued invoice of stock items, approved: the notes compete for the
  same few lots (--stock per lot), so late ones are refused for short stock; one time in four the
  invoice stays on offer, so two clerks may make its note at the same moment;
* restock: a goods receipt of new lots of those items, approved while the deliveries draw on them;
* race: one action sent twice at the same moment (a double click, two tabs): 60 % of an invoice paid
  twice, its delivery note made twice (then approved twice), a draft issued twice, a note approved
  twice. Both answered 2xx is a failure.

Prints throughput and p50/p95/p99 per kind of request, the answers other than 2xx/3xx per kind, then
drains the jobs (--drain seconds at most) and checks the database. Exit status 1 on any 5xx, a stock
balance that differs from the sum of its ledger (tblinventory_manage vs tblgoods_transaction_detail,
as tests/warehouse do), a negative balance, a document number used twice in its series, an invoice
paid above its total, a job lost (an outbox row written during the run not dispatched, or dispatched
without its RQ job finishing or failing) or run twice (two RQ jobs for one outbox row: each job
carries its row's id in its meta), a job that failed, or a sales report figure that differs from
the raw rows (each daily roll-up read with its pending moves, as the reports read it).
"""
from __future__ import annotations

import argparse
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import requests
from sqlalchemy import create_engine, inspect, text

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "load-password-1"
LINES = [("Consulting day", "3", "1200.00", "19.00"), ("Licence, 12 months", "2", "499.90", "19.00"),
         ("Training handbook", "10", "45.50", "9.00"), ("On-site setup", "1", "850.00", "19.00"),
         ("Printed manuals", "4", "12.25", "9.00")]
RUN = f"{int(time.time()) % 1000000:06d}"  # in names and emails, so a --reuse run does not meet its own
MIX = {"grid": 30, "search": 10, "ctrl-k": 10, "lead": 10, "chain": 8, "pay": 12, "issue": 10, "deliver": 10, "race": 4, "restock": 2}
GRIDS = ["/admin/leads/", "/admin/opportunities/", "/admin/clients/", "/admin/proposals/", "/admin/estimates/",
         "/admin/invoices/?status=4", "/admin/invoices/?status=1&sort=3&desc=1", "/admin/invoices/?page=1",
         "/admin/payments/", "/admin/warehouse/manage_delivery/", "/admin/warehouse/inventory_manage/",
         "/admin/leads/?page=1&page_size=50", "/admin/clients/contacts/"]
SEARCHES = ["/admin/leads/?search=Load", "/admin/invoices/?search=INV-", "/admin/clients/?search=SRL",
            "/admin/leads/?search=load1", "/admin/clients/contacts/?search=%40"]
CTRL_K = ["Load", "INV-00", "SRL", "load2", "Contact 1"]


def log(msg: str) -> None:
    print(msg, flush=True)


# --- the system under test ---------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(args, **extra) -> dict:
    env = dict(os.environ, DATABASE_URL=args.db, REDIS_URL=args.redis, CRM_SANDBOX="1", JOBS_INLINE="0",
               SECRET_KEY="load-test-secret-key-not-for-production", PYTHONPATH=str(ROOT),
               CRM_ADMIN_EMAIL="admin@load.test", CRM_ADMIN_PASSWORD=PASSWORD)
    env.update(extra)
    return env


def recreate_database(url: str) -> None:
    base, _, name = url.rpartition("/")
    if "load" not in name and "bench" not in name:
        raise SystemExit(f"refusing to drop {name}: give a database whose name contains 'load' or 'bench'")
    engine = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def prepare(args) -> None:
    from redis import Redis

    t0 = time.perf_counter()
    recreate_database(args.db)
    Redis.from_url(args.redis).flushdb()
    env = _env(args, JOBS_INLINE="1")  # the demo's own jobs run as it is loaded, before the measurement
    env.pop("REDIS_URL")
    for cmd in (["db", "upgrade"], ["crm", "demo-data"], ["crm", "sync-roles"]):
        subprocess.run([str(BIN / "flask"), "--app", "wsgi"] + cmd, cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
    log(f"database migrated, demo loaded in {time.perf_counter() - t0:.1f} s")


def setup_in_app(args) -> dict:
    """Staff accounts, stock-tracked items in a few lots, and the ids the users need."""
    os.environ.update(DATABASE_URL=args.db, JOBS_INLINE="1", CRM_SANDBOX="1")
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    from crm.app import create_app
    from crm.cli import _admin_account
    from crm.core.extensions import db
    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.catalog.models import Item
    from crm.warehouse.models import GoodsReceipt, GoodsReceiptDetail, Warehouse

    app = create_app()
    with app.app_context():
        emails = [f"staff{n:02d}@load.test" for n in range(args.users)]
        for email in emails:
            _admin_account(email, PASSWORD)
        db.session.commit()
        admin = db.session.query(Staff).filter_by(email=emails[0]).one()
        wh = db.session.query(Warehouse).order_by(Warehouse.warehouse_id).first()
        items, tag = [], int(time.time()) % 100000
        for n in range(args.items):
            it = Item(description=f"Load pallet {n}", commodity_code=f"LOAD-{tag}-{n:03d}", commodity_name=f"Load pallet {n}",
                      rate=Decimal("100.00"), purchase_price=Decimal("60.00"), without_checking_warehouse=False)
            db.session.add(it)
            items.append(it)
        db.session.commit()
        gr = GoodsReceipt(warehouse_id=wh.warehouse_id)
        for it in items:
            for lot in range(args.lots):
                gr.items.append(GoodsReceiptDetail(commodity_code=it.id, warehouse_id=wh.warehouse_id,
                                                   quantities=Decimal(args.stock), lot_number=f"L{it.id}-{lot}",
                                                   unit_price=Decimal("60.00")))
        db.session.add(gr)
        db.session.commit()
        run(GoodsReceipt, gr.id, "approve", admin)
        one = lambda sql: db.session.execute(text(sql)).scalar()  # noqa: E731
        refs = {"emails": emails, "items": [it.id for it in items], "warehouse": wh.warehouse_id,
                "status": one("SELECT id FROM tblleads_status ORDER BY statusorder LIMIT 1"),
                "source": one("SELECT id FROM tblleads_sources ORDER BY id LIMIT 1"),
                "mode": one("SELECT id FROM tblpayment_modes WHERE active ORDER BY id LIMIT 1"),
                "clients": [r[0] for r in db.session.execute(text("SELECT userid FROM tblclients ORDER BY userid"))],
                "outbox_from": one("SELECT coalesce(max(id), 0) FROM tbljob_outbox")}
        db.session.remove()
    return refs


class System:
    """gunicorn, the RQ workers and the clock, as child processes with their output in files."""

    def __init__(self, args, logdir: Path):
        self.args, self.logdir, self.procs = args, logdir, []
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def _start(self, name: str, cmd: list[str]) -> None:
        out = open(self.logdir / f"{name}.log", "wb")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=_env(self.args), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append((name, proc, out))

    def start(self) -> None:
        a = self.args
        self._start("web", [str(BIN / "gunicorn"), "--workers", str(a.web_workers), "--bind", f"127.0.0.1:{self.port}",
                            "--timeout", "120", "wsgi:app"])
        for n in range(a.rq_workers):
            self._start(f"worker{n}", [str(BIN / "rq"), "worker", "-w", "crm.jobs.worker.AppWorker", "--url", a.redis]
                        + (["--with-scheduler"] if n == 0 else []) + ["default"])
        self._start("clock", [str(BIN / "rq"), "cron", "--url", a.redis, "crm.jobs.cron"])
        deadline = time.time() + 120
        while time.time() < deadline:
            for name, proc, _ in self.procs:
                if proc.poll() is not None:
                    raise SystemExit(f"{name} stopped at start: see {self.logdir / (name + '.log')}")
            try:
                if requests.get(self.base + "/login", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise SystemExit("the web server did not answer")

    def alive(self) -> list[str]:
        return [name for name, proc, _ in self.procs if proc.poll() is not None]

    def stop(self) -> None:
        for _name, proc, _ in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc, out in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                log(f"{name} did not stop in 30 s: killed")
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: it and the work horse it forked
                proc.wait(10)
            out.close()


# --- the simulated staff ------------------------------------------------------------------------

class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.codes: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.samples: dict[tuple[str, int], str] = {}
        self.server_errors: list[str] = []
        self.doubles: list[str] = []

    def note_double(self, what: str) -> None:
        with self.lock:
            self.doubles.append(what)

    def add(self, kind: str, ms: float, status: int, method: str, path: str, body: str) -> None:
        with self.lock:
            self.times[kind].append(ms)
            self.codes[kind][status] += 1
            if status >= 400:
                self.samples.setdefault((kind, status), f"{method} {path}: {body[:240]}")
            if status >= 500:
                self.server_errors.append(f"{status} {method} {path}: {body[:300]}")


class Pools:
    """Documents the staff pass each other: invoices to pay, issued invoices of stock to deliver."""

    def __init__(self):
        self.lock = threading.Lock()
        self.payable: list[int] = []
        self.deliverable: list[int] = []
        self.paid: dict[int, Decimal] = {}

    def put(self, name: str, value: int) -> None:
        with self.lock:
            pool = getattr(self, name)
            pool.append(value)
            del pool[:-200]  # the recent ones

    def pick(self, name: str, take: bool, recent: int = 10) -> int | None:
        """One of the ``recent`` newest: staff work on the same fresh documents at the same time."""
        with self.lock:
            pool = getattr(self, name)
            if not pool:
                return None
            i = random.randrange(max(0, len(pool) - recent), len(pool))
            return pool.pop(i) if take else pool[i]


class Refused(Exception):
    """A 4xx answer: the step's chain stops there (it is counted, not a failure)."""


class Staff:
    def __init__(self, base: str, email: str, refs: dict, stats: Stats, pools: Pools, rng: random.Random):
        self.base, self.email, self.refs, self.stats, self.pools, self.rng = base, email, refs, stats, pools, rng
        self.web = requests.Session()
        self.api = requests.Session()
        self.n = 0

    def _call(self, session, kind: str, method: str, path: str, **kw) -> requests.Response:
        t0 = time.perf_counter()
        r = session.request(method, self.base + path, timeout=120, allow_redirects=False, **kw)
        self.stats.add(kind, (time.perf_counter() - t0) * 1000, r.status_code, method, path,
                       r.text if r.status_code >= 400 else "")
        if r.status_code >= 400:
            raise Refused(f"{r.status_code} {method} {path}")
        return r

    def login(self) -> None:
        page = self._call(self.web, "login page", "GET", "/login").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or \
            re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
        r = self._call(self.web, "login", "POST", "/login",
                       data={"csrf_token": token.group(1), "email": self.email, "password": PASSWORD})
        if r.status_code != 302:
            raise SystemExit(f"{self.email} could not sign in: {r.status_code}")
        answer = self._call(self.api, "api token", "POST", "/api/v1/auth/token",
                            json={"email": self.email, "password": PASSWORD}).json()
        self.api.headers["Authorization"] = f"Bearer {answer['token']}"
        self.api2 = requests.Session()  # the same button pressed twice: a second tab, at the same moment
        self.api2.headers["Authorization"] = self.api.headers["Authorization"]

    def act(self, kind: str, resource: str, obj_id: int, name: str, **data) -> dict:
        return self._call(self.api, kind, "POST", f"/api/v1/{resource}/{obj_id}/actions/{name}", json=data).json()

    @staticmethod
    def created(answer: dict, resource: str) -> int:
        ids = [c["id"] for c in answer.get("created", []) if c.get("resource") == resource]
        if not ids:
            raise Refused(f"the answer names no {resource}: {answer}")
        return ids[0]

    # the tasks

    def grid(self):
        self._call(self.web, "grid", "GET", self.rng.choice(GRIDS))

    def search(self):
        self._call(self.web, "grid search", "GET", self.rng.choice(SEARCHES))

    def ctrl_k(self):
        q = self.rng.choice(CTRL_K)
        self._call(self.web, "ctrl-k", "GET", f"/admin/search/?q={q}&format=json")

    def new_lead(self, kind="lead create") -> int:
        self.n += 1
        tag = f"{self.email.split('@')[0]}-{RUN}-{self.n}"
        return self._call(self.api, kind, "POST", "/api/v1/leads", json={
            "name": f"Load Contact {tag}", "company": f"Load Buyer {tag} SRL", "email": f"load{tag}@buyer.example",
            "phonenumber": f"07{self.rng.randrange(10**8):08d}", "status": self.refs["status"],
            "source": self.refs["source"], "lead_value": "5000.00"}).json()["id"]

    def chain(self):
        lead = self.new_lead("chain: lead")
        opp = self.created(self.act("chain: convert_to_opportunity", "leads", lead, "convert_to_opportunity"), "leads")
        proposal = self.created(self.act("chain: create_proposal", "leads", opp, "create_proposal"), "proposals")
        self._call(self.api, "chain: proposal lines", "PATCH", f"/api/v1/proposals/{proposal}", json={
            "items": [{"description": d, "qty": q, "rate": r, "unit": "buc", "item_order": i,
                       "taxes": [{"taxname": "TVA", "taxrate": t}]} for i, (d, q, r, t) in enumerate(LINES, 1)]})
        self.act("chain: mark_sent", "proposals", proposal, "mark_sent")
        self.act("chain: accept", "proposals", proposal, "accept")
        order = self.created(self.act("chain: convert_to_estimate", "proposals", proposal, "convert_to_estimate"),
                             "estimates")
        invoice = self.created(self.act("chain: estimate convert_to_invoice", "estimates", order,
                                        "convert_to_invoice"), "invoices")
        self.pools.put("payable", invoice)

    def pay(self):
        invoice = self.pools.pick("payable", take=False)
        if invoice is None:
            return self.grid()
        data = self._call(self.api, "pay: read invoice", "GET", f"/api/v1/invoices/{invoice}").json()
        with self.pools.lock:  # what the staff have paid on it so far (no read of the payments needed)
            due = Decimal(str(data["total"])) - self.pools.paid.get(invoice, Decimal(0))
        if due <= 0 or data.get("status") in (2, 5):  # paid or cancelled
            with self.pools.lock:
                if invoice in self.pools.payable:
                    self.pools.payable.remove(invoice)
            return
        # half the time all that is due, else 40 %: two staff on one invoice both paying the rest is
        # the race the server must refuse
        amount = due if self.rng.random() < 0.5 else (due * Decimal("0.4")).quantize(Decimal("0.01"))
        self.act("pay: record_payment", "invoices", invoice, "record_payment", amount=f"{amount:.2f}",
                 paymentmode=self.refs["mode"])
        with self.pools.lock:
            self.pools.paid[invoice] = self.pools.paid.get(invoice, Decimal(0)) + amount

    def issue(self):
        items = self.rng.sample(self.refs["items"], k=min(2, len(self.refs["items"])))
        inv = self._call(self.api, "issue: draft invoice", "POST", "/api/v1/invoices", json={
            "clientid": self.rng.choice(self.refs["clients"]), "status": 6, "date": date.today().isoformat(),
            "duedate": (date.today() + timedelta(days=30)).isoformat(),
            "items": [{"description": f"Load pallet {i}", "item_id": i, "qty": str(self.rng.randint(1, 3)),
                       "rate": "100.00", "unit": "buc", "item_order": n} for n, i in enumerate(items, 1)]}).json()
        self.act("issue: issue", "invoices", inv["id"], "issue")
        self.pools.put("deliverable", inv["id"])
        self.pools.put("payable", inv["id"])

    def deliver(self):
        # one time in four the invoice stays in the pool: another clerk may make a note for it at
        # the same moment, and the goods must not be delivered twice
        invoice = self.pools.pick("deliverable", take=self.rng.random() < 0.75)
        if invoice is None:
            return self.issue()
        answer = self.act("deliver: create_delivery_note", "invoices", invoice, "create_delivery_note",
                          warehouse_id=self.refs["warehouse"])
        note = self.created(answer, "goods_delivery")
        self.act("deliver: approve", "goods_delivery", note, "approve")

    def restock(self):
        """A goods receipt of a new lot of two of the items the deliveries draw on, approved."""
        items = self.rng.sample(self.refs["items"], k=min(2, len(self.refs["items"])))
        self.n += 1
        wh = self.refs["warehouse"]
        receipt = self._call(self.api, "restock: goods receipt", "POST", "/api/v1/goods_receipt", json={
            "warehouse_id": wh, "items": [{"commodity_code": i, "warehouse_id": wh, "quantities": "6",
                                           "lot_number": f"R{RUN}-{self.email[5:7]}-{self.n}", "unit_price": "61.00"}
                                          for i in items]}).json()
        self.act("restock: approve", "goods_receipt", receipt["id"], "approve")

    def race(self):
        """The same action sent twice at the same moment (a double click, two tabs): paying all that
        is due, making the delivery note of an invoice, issuing a draft, approving a note."""
        which = self.rng.choice(["pay", "note", "issue", "approve"])
        items = self.rng.sample(self.refs["items"], k=min(2, len(self.refs["items"])))
        inv = self._call(self.api, f"race {which}: draft invoice", "POST", "/api/v1/invoices", json={
            "clientid": self.rng.choice(self.refs["clients"]), "status": 6, "date": date.today().isoformat(),
            "duedate": (date.today() + timedelta(days=30)).isoformat(),
            "items": [{"description": f"Load pallet {i}", "item_id": i, "qty": "1", "rate": "100.00", "unit": "buc",
                       "item_order": n} for n, i in enumerate(items, 1)]}).json()
        if which == "issue":
            return self._twice(f"race {which}", "invoices", inv["id"], "issue")
        self.act(f"race {which}: issue", "invoices", inv["id"], "issue")
        if which == "pay":
            # 60 % twice: each fits alone, both would pay 120 %
            amount = (Decimal(str(inv["total"])) * Decimal("0.6")).quantize(Decimal("0.01"))
            return self._twice(f"race {which}", "invoices", inv["id"], "record_payment", amount=f"{amount:.2f}",
                               paymentmode=self.refs["mode"])
        if which == "note":
            return self._twice(f"race {which}", "invoices", inv["id"], "create_delivery_note",
                               warehouse_id=self.refs["warehouse"])
        note = self.created(self.act(f"race {which}: note", "invoices", inv["id"], "create_delivery_note",
                                     warehouse_id=self.refs["warehouse"]), "goods_delivery")
        self._twice(f"race {which}", "goods_delivery", note, "approve")

    def _twice(self, kind: str, resource: str, obj_id: int, name: str, **data) -> None:
        barrier, answers = threading.Barrier(2), []

        def press(session):
            barrier.wait()
            try:
                answers.append(self._call(session, kind, "POST", f"/api/v1/{resource}/{obj_id}/actions/{name}",
                                          json=data).json())
            except Refused:
                pass

        presses = [threading.Thread(target=press, args=(s,)) for s in (self.api, self.api2)]
        for t in presses:
            t.start()
        for t in presses:
            t.join()
        if len(answers) > 1:
            self.stats.note_double(f"{kind}: both presses of {resource} #{obj_id} {name} answered 2xx: {answers}")
        elif name == "create_delivery_note" and answers:  # the notes are then approved, both at once
            note = self.created(answers[0], "goods_delivery")
            self._twice("race note: approve", "goods_delivery", note, "approve")

    def work(self, until: float, think: float) -> None:
        tasks = {"grid": self.grid, "search": self.search, "ctrl-k": self.ctrl_k, "lead": self.new_lead,
                 "chain": self.chain, "pay": self.pay, "issue": self.issue, "deliver": self.deliver,
                 "race": self.race, "restock": self.restock}
        kinds, weights = list(MIX), list(MIX.values())
        while time.time() < until:
            try:
                tasks[self.rng.choices(kinds, weights)[0]]()
            except Refused:
                pass
            except requests.RequestException as exc:
                self.stats.add("connection error", 0.0, 599, "?", "?", str(exc))
            time.sleep(self.rng.uniform(0, think))


# --- the jobs ----------------------------------------------------------------------------------

class JobWatch:
    """Every RQ job that finished or failed, by id, with the outbox row it came from (read from the
    registries every few seconds: their entries expire after RQ's result_ttl)."""

    def __init__(self, url: str):
        from redis import Redis
        from rq import Queue

        self.conn = Redis.from_url(url)
        self.queue = Queue("default", connection=self.conn)
        self.seen: dict[str, tuple[int | None, str, str]] = {}  # job id: (outbox id, status, function)
        self.stop = threading.Event()

    def scan(self) -> None:
        from rq.job import Job

        for status, registry in (("finished", self.queue.finished_job_registry),
                                 ("failed", self.queue.failed_job_registry)):
            new = [j for j in registry.get_job_ids() if j not in self.seen]
            for job_id, job in zip(new, Job.fetch_many(new, connection=self.conn)):
                if job is not None:
                    error = ""
                    if status == "failed":
                        result = job.latest_result()
                        error = (result.exc_string or "").strip().splitlines()[-1:] if result else []
                        error = error[0] if error else "?"
                    self.seen[job_id] = ((job.meta or {}).get("outbox_id"), status, f"{job.func_name} {error}")

    def loop(self) -> None:
        while not self.stop.wait(5):
            try:
                self.scan()
            except Exception as exc:  # noqa: BLE001 - tried again in 5 s
                log(f"job watch: {exc}")

    def busy(self) -> int:
        return self.queue.count + self.queue.started_job_registry.count

    def waiting(self) -> set[int]:
        """The outbox rows whose RQ job is still queued or running: not lost, not run yet (the drain
        ended first); a run whose workers fall this far behind is reported as such."""
        from rq.job import Job

        ids = [*self.queue.get_job_ids(), *self.queue.started_job_registry.get_job_ids()]
        return {(job.meta or {}).get("outbox_id") for job in Job.fetch_many(ids, connection=self.conn)
                if job is not None} - {None}


# --- the checks --------------------------------------------------------------------------------

def outbox_rows(engine, since: int) -> list:
    with engine.connect() as conn:
        return conn.execute(text("SELECT id, func, dispatched_at IS NOT NULL, attempts, last_error FROM tbljob_outbox "
                                 "WHERE id > :since ORDER BY id"), {"since": since}).all()


def check_database(args, refs: dict, watch: JobWatch, engine) -> list[str]:
    from crm.app import create_app
    from crm.core.extensions import db
    from crm.reports import rollup
    from crm.warehouse.actions import stock

    problems = []
    app = create_app()
    with app.app_context():
        ledger, balances = stock.ledger_sums(), stock.balance_sums()
        for key in sorted(set(ledger) | set(balances), key=str):
            if Decimal(ledger.get(key) or 0) != Decimal(balances.get(key) or 0):
                problems.append(f"stock {key}: balance {balances.get(key)} but the ledger sums to {ledger.get(key)}")
        negative = db.session.execute(text("SELECT id, commodity_id, lot_number, inventory_number FROM tblinventory_manage "
                                           "WHERE inventory_number < 0")).all()
        problems += [f"negative stock: {tuple(r)}" for r in negative]
        # the sales reports' figures (daily roll-ups with the moves not folded yet) against the raw rows
        problems += rollup.differences(db.session)
        db.session.remove()
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        series = [("tblinvoices", "formatted_number"), ("tblestimates", "formatted_number"),
                  ("tblproposals", "formatted_number"), ("tblgoods_delivery", "goods_delivery_code"),
                  ("tblgoods_receipt", "goods_receipt_code"), ("tblcreditnotes", "formatted_number")]
        for table, col in series:
            if table not in tables or col not in {c["name"] for c in inspect(conn).get_columns(table)}:
                continue
            dup = conn.execute(text(f"SELECT {col}, count(*) FROM {table} WHERE {col} IS NOT NULL AND {col} <> '' "
                                    f"GROUP BY {col} HAVING count(*) > 1")).all()
            problems += [f"{table}.{col} {r[0]!r} used {r[1]} times" for r in dup]
        over = conn.execute(text(
            "SELECT i.id, i.formatted_number, i.total, sum(p.amount) FROM tblinvoices i "
            "JOIN tblinvoicepaymentrecords p ON p.invoiceid = i.id GROUP BY i.id, i.formatted_number, i.total "
            "HAVING sum(p.amount) > i.total")).all()
        problems += [f"invoice {r[1]} (#{r[0]}) total {r[2]} paid {r[3]}" for r in over]
        twice = conn.execute(text(
            "SELECT l.rel_id, l.id, l.qty, l.wh_delivered_quantity, sum(d.quantities) FROM tblitemable l "
            "JOIN tblgoods_delivery_detail d ON d.itemable_id = l.id JOIN tblgoods_delivery g ON g.id = d.goods_delivery_id "
            "WHERE l.rel_type = 'invoice' AND g.approval = 1 GROUP BY l.rel_id, l.id, l.qty, l.wh_delivered_quantity "
            "HAVING sum(d.quantities) > l.qty OR l.wh_delivered_quantity > l.qty")).all()
        problems += [f"invoice #{r[0]} line #{r[1]}: {r[2]} sold, {r[4]} on approved notes, {r[3]} marked delivered"
                     for r in twice]
    rows = outbox_rows(engine, refs["outbox_from"])
    runs: dict[int, list[str]] = defaultdict(list)
    for job_id, (outbox_id, status, what) in watch.seen.items():
        if outbox_id is not None:
            runs[outbox_id].append(status)
        if status == "failed":
            problems.append(f"job {job_id} failed: {what}")
    waiting = watch.waiting()
    if waiting:
        problems.append(f"not drained: {len(waiting)} job(s) still queued or running after --drain "
                        f"{args.drain} s (the workers fell behind; none of them lost)")
    for row_id, func, dispatched, attempts, error in rows:
        if row_id in waiting:
            continue
        if not dispatched:
            problems.append(f"job lost: outbox #{row_id} {func} not dispatched ({attempts} attempts, {error})")
        elif not runs.get(row_id):
            problems.append(f"job lost: outbox #{row_id} {func} dispatched but never run")
        elif len(runs[row_id]) > 1:
            problems.append(f"job run twice: outbox #{row_id} {func} ran {len(runs[row_id])} times")
    log(f"jobs: {len(rows)} outbox row(s) written during the run, {sum(1 for r in rows if r[2])} dispatched; "
        f"{len(watch.seen)} RQ job(s) finished or failed ({sum(1 for s in watch.seen.values() if s[0] is None)} "
        "periodic or not from the outbox)")
    return problems


# --- the report --------------------------------------------------------------------------------

def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


def report(stats: Stats, seconds: float) -> None:
    total = sum(len(v) for v in stats.times.values())
    log(f"\n{total} requests in {seconds:.0f} s: {total / seconds:.1f} requests/s")
    log(f"{'kind':<36}{'count':>7}{'per s':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  answers")
    for kind in sorted(stats.times):
        v = stats.times[kind]
        codes = ", ".join(f"{c}: {n}" for c, n in sorted(stats.codes[kind].items()))
        log(f"{kind:<36}{len(v):>7}{len(v) / seconds:>7.1f}{statistics.median(v):>9.1f}{pct(v, 95):>9.1f}"
            f"{pct(v, 99):>9.1f}  {codes}")
    if stats.samples:
        log("\nrefused or failed (first of each kind and status):")
        for (kind, status), sample in sorted(stats.samples.items()):
            log(f"  {kind} {status}: {sample}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=300)
    ap.add_argument("--users", type=int, default=30)
    ap.add_argument("--think", type=float, default=1.0, help="pause between tasks, uniform 0..THINK seconds")
    ap.add_argument("--db", default="postgresql+psycopg://postgres@127.0.0.1:5432/crm_load")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    ap.add_argument("--web-workers", type=int, default=4)
    ap.add_argument("--rq-workers", type=int, default=2)
    ap.add_argument("--items", type=int, default=4, help="stock items the deliveries compete for")
    ap.add_argument("--lots", type=int, default=3)
    ap.add_argument("--stock", type=int, default=15, help="quantity per lot (the restocks add lots of 6)")
    ap.add_argument("--drain", type=float, default=150, help="seconds to wait for the jobs at the end")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reuse", action="store_true", help="keep the database of the last run (no drop, no demo)")
    args = ap.parse_args(argv)

    if args.reuse:
        from redis import Redis

        Redis.from_url(args.redis).flushdb()
    else:
        prepare(args)
    refs = setup_in_app(args)
    engine = create_engine(args.db)
    logdir = Path(tempfile.mkdtemp(prefix="crm-load-"))
    system = System(args, logdir)
    watch = JobWatch(args.redis)
    stats, pools = Stats(), Pools()
    problems: list[str] = []
    load_before = os.getloadavg()
    try:
        system.start()
        log(f"gunicorn ({args.web_workers} workers), {args.rq_workers} RQ workers and the clock started; logs in {logdir}")
        staff = [Staff(system.base, email, refs, stats, pools, random.Random(args.seed * 1000 + n))
                 for n, email in enumerate(refs["emails"])]
        for s in staff:
            s.login()
        threading.Thread(target=watch.loop, daemon=True).start()
        t0 = time.time()
        until = t0 + args.duration
        threads = [threading.Thread(target=s.work, args=(until, args.think)) for s in staff]
        for t in threads:
            t.start()
        loads = []
        while any(t.is_alive() for t in threads):
            time.sleep(5)
            loads.append(os.getloadavg()[0])
            if system.alive():
                problems.append(f"stopped during the run: {system.alive()}")
                break
        for t in threads:
            t.join()
        seconds = time.time() - t0
        report(stats, seconds)
        t1 = time.time()
        while time.time() - t1 < args.drain:
            pending = sum(1 for r in outbox_rows(engine, refs["outbox_from"]) if not r[2])
            if not pending and not watch.busy():
                break
            time.sleep(2)
        time.sleep(6)  # the last jobs reach their registry
        watch.stop.set()
        watch.scan()
        log(f"\njobs drained in {time.time() - t1:.0f} s")
    finally:
        system.stop()
    problems += [f"server error: {e}" for e in stats.server_errors[:20]]
    problems += [f"pressed twice, done twice: {d}" for d in stats.doubles[:20]]
    if len(stats.server_errors) > 20:
        problems.append(f"... {len(stats.server_errors) - 20} more server errors")
    problems += check_database(args, refs, watch, engine)
    log(f"load average: {load_before[0]:.1f} before, {statistics.mean(loads or [0]):.1f} mean during the run "
        f"({os.cpu_count()} CPUs)")
    if problems:
        log(f"\nFAILED ({len(problems)} problem(s)); server logs in {logdir}:")
        for p in problems[:60]:
            log(f"  {p}")
        return 1
    log("\nheld: no 5xx, every balance equals its ledger, none negative, no number used twice, no invoice "
        "paid above its total, every job ran once, the report roll-ups equal the raw rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
