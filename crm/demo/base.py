"""The demo loader's tools: the Demo state (who does what, when) and small helpers every step uses."""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update

from crm.core import entry, options
from crm.core.extensions import db
from crm.core.models.records import ActivityLog
from crm.core.registry import run
from crm.core.resources import primary_key
from crm.sales.models.clients import (
    Client,
    Contact,
    LeadActivityLog,
    SalesActivity,
)
from crm.warehouse.models import (
    StockTransaction,
)


PASSWORD = "demo1234"
COUNTRY = "Romania"

# What an action stamps "now" and the demo moves to the day of its step: table, its time column.
STAMPED = ((ActivityLog, "date"), (SalesActivity, "date"), (LeadActivityLog, "date"),
           (StockTransaction, "date_add"))


@dataclass
class Demo:
    """What the steps share: today and the rows made so far (by a short key)."""

    today: date
    staff: dict = field(default_factory=dict)  # role name -> Staff
    pipelines: dict = field(default_factory=dict)
    lead_statuses: dict = field(default_factory=dict)  # (pipeline, status name) -> LeadStatus
    sources: dict = field(default_factory=dict)
    opportunity_statuses: dict = field(default_factory=dict)
    contract_types: dict = field(default_factory=dict)
    contract_statuses: dict = field(default_factory=dict)
    currencies: dict = field(default_factory=dict)
    taxes: dict = field(default_factory=dict)
    payment_modes: dict = field(default_factory=dict)
    units: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)
    warehouses: dict = field(default_factory=dict)
    items: dict = field(default_factory=dict)  # commodity code -> Item
    vendors: dict = field(default_factory=dict)
    clients: dict = field(default_factory=dict)
    leads: dict = field(default_factory=dict)
    opportunities: dict = field(default_factory=dict)  # lead key -> the opportunity made from it
    docs: dict = field(default_factory=dict)  # any document by key: "p_nordic", "po_toner", ...
    stamps: list = field(default_factory=list)  # dates to write: (model, column, after id, up to id, when)
    lots: int = 0

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def at(self, offset: int, hour: int = 10) -> datetime:
        return datetime.combine(self.day(offset), time(hour, 0))

    def next_lot(self) -> str:
        """The lot number the warehouse writes on a received line."""
        self.lots += 1
        return f"{options.get('lot_number_prefix')}-{self.today.year}-{self.lots:03d}"

    def staff_id(self, role: str | None) -> int | None:
        return self.staff[role].staffid if role else None

    @contextmanager
    def stamped(self, when: datetime):
        """Date at ``when`` the activity lines and ledger rows written inside (by :meth:`redate`)."""
        before = self._last_ids()
        yield
        after = self._last_ids()
        self.stamps += [(model, column, before[model], after[model], when) for model, column in STAMPED
                        if after[model] > before[model]]

    @staticmethod
    def _last_ids() -> dict:
        return {model: db.session.scalar(select(func.max(_pk(model)))) or 0 for model, _ in STAMPED}

    def redate(self) -> None:
        """Write the dates :meth:`stamped` noted, in the caller's transaction (one per step, not one
        more commit per action)."""
        for model, column, first, last, when in self.stamps:
            db.session.execute(update(model).where(_pk(model) > first, _pk(model) <= last).values({column: when})
                               .execution_options(synchronize_session=False))
        self.stamps.clear()

    def act(self, obj, name: str, role: str, when: datetime, **params):
        """Run action ``name`` on ``obj`` as the demo's ``role`` (its own transaction, as from the
        grid) on the day ``when``. Returns what the action returns."""
        with self.stamped(when):
            return run(type(obj), rel_id(obj), name, self.staff[role], params)






# --- small helpers -----------------------------------------------------------------------

def _pk(model):
    return getattr(model, primary_key(model))


def rel_id(obj) -> int:
    return getattr(obj, primary_key(type(obj)))


def ensure(model, match: dict, **values):
    """The settings row matching ``match``, created with ``values`` if missing (edits are kept)."""
    row = db.session.query(model).filter_by(**match).first()
    if row is None:
        row = model(**match, **values)
        db.session.add(row)
    return row


def dated(obj, **values) -> None:
    """After an action: move the dates it stamped today (a conversion's, a document's own) to the
    demo's day, and fill in what a person then types on the document's form."""
    for name, value in values.items():
        setattr(obj, name, value)


def entered(d: Demo, doc, role: str, when: datetime):
    """A document typed in a form by ``role``: the generic door's rules (creator, totals, a draft's
    PREFIX + DRAFT), created at ``when``."""
    db.session.add(doc)
    entry.entered(doc, d.staff[role])
    if hasattr(doc, "datecreated"):
        doc.datecreated = when
    db.session.flush()
    return doc


def address(street, city, county, zip_code) -> dict:
    return {"street": street, "city": city, "state": county, "zip": zip_code, "country": COUNTRY}


def address_columns(billing: dict, shipping: dict | None = None) -> dict:
    """address/city/state/zip/country plus billing_* and shipping_* of a client or vendor row."""
    shipping = shipping or billing
    columns = {"address": billing["street"], **{k: billing[k] for k in ("city", "state", "zip", "country")}}
    columns.update({f"billing_{k}": v for k, v in billing.items()})
    columns.update({f"shipping_{k}": v for k, v in shipping.items()})
    return columns


def primary_contact(client: Client) -> Contact:
    return next(c for c in client.contacts if c.is_primary)


def lines(model, d: Demo, lines) -> list:
    """Purchase or warehouse lines as typed: (item code, quantity[, unit price]) with the item's tax."""
    out = []
    for code, qty, *price in lines:
        item = d.items[code]
        out.append(model(item_code=item.id, unit_id=item.unit_id, quantity=Decimal(qty), tax=item.tax,
                         unit_price=Decimal(price[0]) if price else item.purchase_price,
                         **{"item_text" if hasattr(model, "item_text") else "description": item.commodity_name}))
    return out


def public_base() -> str:
    """Where `make run` serves the app (PUBLIC_URL): the stand-ins live under it at /sandbox/<name>."""
    return (os.environ.get("PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/")
