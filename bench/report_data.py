"""Bulk data for the report benchmarks (reports.py; reusable by dashboards/goals benchmarks).

``load(invoices=1_000_000, leads=200_000)`` fills an empty, migrated database with SQLAlchemy Core
``insert()`` executemany batches (as bench/invoice_list.py does): 2 currencies (RON base, EUR at
4.97, half the EUR invoices carrying their own rate), sale agents, clients, catalog items,
invoices spread over the last 3 years with every status, 2 lines each, payments for the paid and
partially paid ones, lead pipelines/statuses/sources, leads (a third converted, some lost/junk)
and open opportunities; goals for this year (company-wide and per agent, the home page's and
/admin/goals' work); then the sales reports' daily roll-ups are rebuilt. Seeded: every run loads the same data, relative to today."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

BATCH = 5000
STATUSES = (6, 1, 3, 2, 2, 2, 4, 5)  # drafts, unpaid, partially paid, paid (most), overdue, cancelled
CENT = Decimal("0.01")


class _Batches:
    """Rows per table; when one table's batch is full all are inserted, in the order the tables were
    first added (parents before the rows that refer to them)."""

    def __init__(self, conn):
        self.conn, self.rows, self.counts = conn, {}, {}

    def add(self, table, row):
        batch = self.rows.setdefault(table, [])
        batch.append(row)
        if len(batch) >= BATCH:
            self.flush()

    def flush(self, table=None):
        from sqlalchemy import insert

        for t in ([table] if table is not None else list(self.rows)):
            batch = self.rows.get(t)
            if batch:
                self.conn.execute(insert(t), batch)
                self.counts[t.name] = self.counts.get(t.name, 0) + len(batch)
                batch.clear()


def load(invoices: int = 1_000_000, leads: int = 200_000, clients: int = 5000, agents: int = 12, items: int = 300,
         seed: int = 1, admin_id: int | None = None) -> dict:
    """Load the data; return the number of rows per table."""
    from crm.catalog.models import Currency, Item
    from crm.core.extensions import db
    from crm.core.models.settings import Staff
    from crm.sales.models.clients import Client, Lead, LeadSource, LeadStatus, OpportunityStatus, Pipeline
    from crm.sales.models.documents import Goal, Invoice, InvoicePayment, ItemLine

    rnd = random.Random(seed)
    today = date.today()
    now = datetime.utcnow().replace(microsecond=0)
    with db.engine.begin() as conn:
        b = _Batches(conn)
        b.add(Currency.__table__, dict(id=1, symbol="lei", name="RON", decimal_separator=",", thousand_separator=".",
                                       placement="after", isdefault=True, exchange_rate=Decimal("1")))
        b.add(Currency.__table__, dict(id=2, symbol="€", name="EUR", decimal_separator=",", thousand_separator=".",
                                       placement="before", isdefault=False, exchange_rate=Decimal("4.97")))
        b.flush()
        first_agent = 1000
        for k in range(agents):
            b.add(Staff.__table__, dict(staffid=first_agent + k, email=f"agent{k}@bench.example", firstname="Agent",
                                        lastname=f"{k:02d}", admin=False, active=True, datecreated=now))
        for cid in range(1, clients + 1):
            b.add(Client.__table__, dict(userid=cid, company=f"Bench Client {cid:05d} SRL", country="RO",
                                         datecreated=now - timedelta(days=rnd.randint(0, 2000)), active=True,
                                         default_currency=1, addedfrom=admin_id))
        for iid in range(1, items + 1):
            b.add(Item.__table__, dict(id=iid, description=f"Item {iid}", commodity_name=f"Item {iid:03d}",
                                       rate=Decimal(rnd.randint(1000, 100000)) / 100, active=True))
        b.flush()

        pay_id = line_id = 0
        number = 0
        for iid in range(1, invoices + 1):
            status = rnd.choice(STATUSES)
            d = today - timedelta(days=rnd.randint(0, 3 * 365))
            eur = rnd.random() < 0.2
            lines = [(rnd.randint(1, items), Decimal(rnd.randint(1, 10)), Decimal(rnd.randint(500, 200000)) / 100)
                     for _ in range(2)]
            subtotal = sum((q * r for _, q, r in lines), Decimal(0)).quantize(CENT)
            tax = (subtotal * Decimal("0.19")).quantize(CENT)
            total = subtotal + tax
            if status != 6:
                number += 1
            b.add(Invoice.__table__, dict(
                id=iid, clientid=rnd.randint(1, clients), number=number if status != 6 else None, prefix="INV-",
                number_format=1, formatted_number=f"INV-{number:07d}" if status != 6 else None,
                datecreated=datetime.combine(d, datetime.min.time()), date=d, duedate=d + timedelta(days=30),
                currency=2 if eur else 1, exchange_rate=Decimal("4.95") if eur and iid % 2 else None,
                subtotal=subtotal, total_tax=tax, total=total, status=status, sent=status != 6,
                addedfrom=admin_id, sale_agent=first_agent + rnd.randrange(agents) if iid % 10 else None,
                discount_percent=Decimal(0), discount_total=Decimal(0), recurring=0, cycles=0, total_cycles=0))
            for pos, (item, qty, rate) in enumerate(lines):
                line_id += 1
                b.add(ItemLine.__table__, dict(id=line_id, rel_id=iid, rel_type="invoice", description=f"Item {item}",
                                               item_id=item, qty=qty, rate=rate, unit="buc", item_order=pos))
            if status in (2, 3):
                amount = total if status == 2 else (total / 2).quantize(CENT)
                pay_id += 1
                b.add(InvoicePayment.__table__, dict(
                    id=pay_id, invoiceid=iid, amount=amount, paymentmode="1",
                    date=min(d + timedelta(days=rnd.randint(0, 45)), today), daterecorded=now))
        b.flush()

        pipelines, statuses = [], []
        for p in range(1, 4):
            pipelines.append(p)
            b.add(Pipeline.__table__, dict(id=p, name=f"Pipeline {p}", pipeline_order=p, isdefault=p == 1))
        b.flush()
        sid = 0
        for p in pipelines:
            for order in range(1, 5):
                sid += 1
                statuses.append((p, sid))
                b.add(LeadStatus.__table__, dict(id=sid, name=f"Stage {order}", statusorder=order, pipeline=p,
                                                 color="#28B8DA", isdefault=False))
        for s in range(1, 9):
            b.add(LeadSource.__table__, dict(id=s, name=f"Source {s}"))
        b.add(OpportunityStatus.__table__, dict(id=1, name="Qualification", statusorder=1, isdefault=True,
                                                is_won=False, is_lost=False))
        b.add(OpportunityStatus.__table__, dict(id=2, name="Won", statusorder=2, isdefault=False, is_won=True,
                                                is_lost=False))
        b.flush()
        for lid in range(1, leads + 1):
            pipeline, status = rnd.choice(statuses)
            added = now - timedelta(minutes=rnd.randint(0, 3 * 365 * 24 * 60))
            converted = added + timedelta(hours=rnd.randint(1, 24 * 90)) if rnd.random() < 0.3 else None
            opp = lid % 20 == 0
            b.add(Lead.__table__, dict(
                id=lid, name=f"Lead {lid}", company=f"Prospect {lid}", dateadded=added, status=status,
                source=rnd.randint(1, 8), pipeline=pipeline, assigned=first_agent + rnd.randrange(agents),
                leadorder=1, date_converted=None if opp or (converted and converted > now) else converted,
                lost=rnd.random() < 0.1, junk=rnd.random() < 0.03, is_public=False, is_opportunity=opp,
                opportunity_status=rnd.choice((1, 1, 1, 2)) if opp else None,
                lead_value=Decimal(rnd.randint(1000, 5000000)) / 100 if opp else None,
                probability=Decimal(rnd.choice((10, 25, 50, 75, 90))) if opp else None,
                estimated_close_date=today + timedelta(days=rnd.randint(-30, 365)) if opp else None))
        b.flush()

        # Year-long goals: every non-contract type company-wide, and income, converted leads and
        # invoiced amount per agent (the admin's home page totals them all).
        year = (date(today.year, 1, 1), date(today.year, 12, 31))
        goals = [(t, 0) for t in (1, 2, 3, 4, 6, 8)] + [(t, first_agent + k) for k in range(agents) for t in (1, 2, 8)]
        for gid, (goal_type, staff) in enumerate(goals, start=1):
            b.add(Goal.__table__, dict(id=gid, subject=f"Goal {gid}", goal_type=goal_type, staff_id=staff,
                                       start_date=year[0], end_date=year[1], achievement=Decimal(1_000_000),
                                       notify_when_fail=True, notify_when_achieve=True, notified=False))
        b.flush()

        if conn.dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for model, pk in ((Client, "userid"), (Invoice, "id"), (Currency, "id"), (ItemLine, "id"),
                              (InvoicePayment, "id"), (Item, "id"), (Lead, "id"), (Staff, "staffid"),
                              (Pipeline, "id"), (LeadStatus, "id"), (LeadSource, "id"), (OpportunityStatus, "id"),
                              (Goal, "id")):
                name = model.__table__.name
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{name}', '{pk}'), "
                                     f"(SELECT max({pk}) FROM {name}))")
    # Core inserts pass by the session hooks: fill the reports' roll-ups as `crm reports-rebuild` does
    from crm.reports.rollup import rebuild

    rebuild(db.session)
    db.session.commit()
    return b.counts
