"""The sales documents at the generic doors (grid forms, the API's create and update): what
crm/core/entry.py runs for them. A new sales order or invoice takes, as the conversions make them,
its client's billing and shipping addresses and an invoice its due date from ``invoice_due_after``
(only where the person left the whole address, or the due date, empty); an issued invoice is
frozen, its status follows its payments, and it is never deleted once paid or sent to ANAF."""
from __future__ import annotations

from datetime import date

from crm.core.entry import rules
from crm.core.extensions import db
from crm.sales.actions import conversions, invoices
from crm.sales.models.clients import Client
from crm.sales.models.documents import Estimate, Invoice


def client_defaults(record) -> None:
    if isinstance(record, Invoice) and record.duedate is None:
        record.duedate = conversions.due_date(record.date or date.today())
    # the grid's form sets the relationship, the API the key: a new record has one or the other until it is flushed
    client = record.client or (db.session.get(Client, record.clientid) if record.clientid is not None else None)
    if client is None:
        return  # a missing client is refused by the door itself
    given = conversions.client_addresses(client)
    for kind in ("billing", "shipping"):
        columns = [f"{kind}_{p}" for p in conversions.ADDRESS_PARTS]
        if not any(getattr(record, c) for c in columns):
            for c in columns:
                setattr(record, c, given[c])
    if record.include_shipping is None:  # not asked: shown when the client has a shipping address
        record.include_shipping = given["include_shipping"]


def _not_removed_when_frozen(invoice) -> None:
    if reason := invoices.frozen_because(invoice):
        raise invoices.frozen_error("id", invoice, reason, "deleted")


rules(Estimate, new=client_defaults)
rules(Invoice, new=client_defaults, changed=invoices.refuse_frozen_change, entered=invoices.entered,
      removing=_not_removed_when_frozen)
