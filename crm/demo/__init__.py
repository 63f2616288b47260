"""Demo data: a Bucharest distributor of IT equipment, office consumables and IT services, with
records at every stage of the two documented workflows (Lead → Cash and the full commercial cycle).

``load()`` runs :data:`STEPS` in order behind a progress bar. Each step is a small function over
the shared :class:`Demo` context; its data is the module-level table just above it. Dates are
relative to today, so the overdue invoice stays overdue and a coffee lot keeps expiring within 30
days whenever the demo is loaded.

Master data (settings, staff, catalog, vendors, clients and their contacts, leads as captured,
drafts as a person types them) is inserted directly. Every business state change after that
(a status, a number, a stock movement, a payment, a conversion) is a registered action run by the
demo staff member whose job it is (:meth:`Demo.act`, one transaction each), so the demo's
documents, ledger rows, activity lines and ``next_*`` counters are exactly what the real screens
write. What an action stamps "now" (activity lines, ledger rows, a conversion's date) is then
moved to the day the demo places that step on, as if it had been done that day.

Stages shown (see /work/shared/seeds): leads in every status of two pipelines, lost and junk;
opportunities in every opportunity status; proposals 6/4/1/7/3/2/5; sales orders 1-5; invoices
6/1/3/2/4/5 in RON and EUR with payments; contracts; goals. Commercial cycle: a sales order
delivered from stock (FIFO over two lots, packing list ready for the courier) after a delivered
replenishment purchase order; a second one blocked by short stock, with its backorder RFQ, two
vendor quotations (accepted / rejected) and an approved, undelivered purchase order; vendor
invoices (unpaid, partially paid); a loss, a stock take being counted and a client return
awaiting inspection."""
from __future__ import annotations

from datetime import date

import click

from crm.core.extensions import db
from crm.demo import activity, clients, deliveries, integrations, masters, purchasing, sales, stock
from crm.demo.base import Demo, public_base
from crm.demo.masters import STAFF
from crm.reports.rollup import build_months
from crm.sales.models.clients import Client

__all__ = ["STAFF", "load", "public_base"]


def load() -> None:
    """Fill an empty database with the demo; a database that already has clients is left alone.

    The actions commit one by one, as they do for a person: a load that fails half-way leaves what
    it did, so start again from an empty database (the next run would find the clients and stop)."""
    if db.session.query(Client.userid).first() is not None:
        click.echo("Demo data already loaded")
        return
    demo = Demo(today=date.today())
    try:
        with click.progressbar(STEPS, label="Loading demo data", item_show_func=_step_label) as bar:
            for step in bar:
                step(demo)
                demo.redate()
                db.session.commit()

        build_months(db.session)  # what the hourly job would do: finished months read from their roll-ups
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
def _step_label(step) -> str | None:
    return step.__doc__.split(":")[0] if step else None
STEPS = (masters.settings, masters.staff, masters.catalog, masters.vendors, stock.opening_stock, clients.leads,
         clients.opportunities, clients.clients, sales.proposals, sales.estimates, sales.invoices, sales.payments,
         sales.contracts, sales.goals, purchasing.replenishment, purchasing.vendor_invoices, deliveries.deliveries,
         deliveries.backorder, stock.stock_corrections, stock.client_returns, activity.activity, activity.marketing,
         activity.courier, integrations.online_payments, integrations.facebook_lead_ads, integrations.efactura)
