"""A grid page costs the same queries whether its table holds a few rows or many, and what the
row actions read is limited to the page's rows (not every row of a related table)."""
from __future__ import annotations

import re

from sqlalchemy import inspect

from crm.core.extensions import db
from crm.models import all_models
from tests.conftest import QueryCounter
from tests.factories import Factory

GRIDS = ["/admin/invoices", "/admin/leads", "/admin/clients", "/admin/proposals", "/admin/estimates",
         "/admin/purchase/purchase_order", "/admin/warehouse/manage_purchase", "/admin/warehouse/manage_delivery"]


def _models():
    from crm.purchasing.models import PurchaseOrder
    from crm.sales.models.clients import Client, Lead
    from crm.sales.models.documents import Estimate, Invoice, Proposal
    from crm.warehouse.models import GoodsDelivery, GoodsReceipt

    return [Invoice, Lead, Client, Proposal, Estimate, PurchaseOrder, GoodsReceipt, GoodsDelivery]


def _in_states_that_read_more(models) -> None:
    """Rows in the states whose row actions look further than the row: accepted proposals (their
    contract), approved delivery notes (their lines), leads that became customers (the customer)."""
    from crm.sales.models.documents import ProposalStatus
    from crm.warehouse.models import WarehouseApproval

    invoice, lead, client, proposal, _e, _po, _gr, delivery = models
    db.session.query(proposal).update({proposal.status: ProposalStatus.ACCEPTED.value})
    db.session.query(delivery).update({delivery.approval: WarehouseApproval.APPROVED.value})
    first_client = db.session.query(client.userid).order_by(client.userid).first()[0]
    db.session.query(lead).update({lead.client_id: first_client})
    db.session.commit()


def _page(admin_client, engine, url):
    with QueryCounter(engine) as qc:
        resp = admin_client.get(f"{url}/?page_size=20")
    assert resp.status_code == 200, url
    return qc, resp.get_data(as_text=True)


def _advance(app, client_id, amount="50.00"):
    from datetime import date
    from decimal import Decimal

    from crm.catalog.models import Currency
    from crm.sales.models.payments import ClientAdvancePayment

    with app.app_context():
        currency = db.session.query(Currency.id).order_by(Currency.id).first()[0]
        db.session.add(ClientAdvancePayment(clientid=client_id, amount=Decimal(amount), currency=currency,
                                            date=date(2026, 1, 5)))
        db.session.commit()


def test_grid_queries_do_not_grow_with_the_table(app, admin_client):
    models = _models()
    with app.app_context():
        f = Factory()
        for m in models:
            f.rows(m, 4)
        db.session.commit()
        _in_states_that_read_more(models)
        engine = db.engine
        clients = [c.userid for c in f.rows(models[2], 3)]
    _advance(app, clients[0])
    admin_client.get(GRIDS[0] + "/")  # warm-up: first-request work is not per-row work
    few = {url: _page(admin_client, engine, url)[0].count for url in GRIDS}
    with app.app_context():
        f = Factory()
        for m in all_models():  # go on from the rows there are (unique values continue)
            f.made[m] = db.session.query(m).order_by(*inspect(m).primary_key).all()
        for m in models:
            f.rows(m, 45)
        db.session.commit()
        _in_states_that_read_more(models)
        more_clients = [c.userid for c in f.rows(models[2], 3)]
    for cid in more_clients:  # other clients' advances: more rows to add up, not more queries
        _advance(app, cid, "20.00")
    many = {}
    for url in GRIDS:
        qc, html = _page(admin_client, engine, url)
        many[url] = qc.count
        assert html.count('data-testid="row-actions"') == 20, url
        for stmt in qc.statements:  # advance credit: the page's clients only, never a sum over all
            if "tblclient_advance_payments" in stmt:
                assert re.search(r"WHERE .*clientid IN", stmt, re.S), stmt
    assert few == many
