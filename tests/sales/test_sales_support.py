"""Builders shared by the tests/test_sales_*.py modules (no tests here): a customer with its
primary contact, a currency, taxes, payment modes, and proposals / sales orders / invoices
with taxed lines; plus helpers to press a grid button, call the API and the CLI."""
from __future__ import annotations

import secrets
from datetime import date, timedelta
from decimal import Decimal

from crm.core.extensions import db
from tests.conftest import csrf_from

TODAY = date.today()


def base_data():
    """RON (default), EUR, a 19% VAT, two payment modes, a sales agent. Returns their ids."""
    from crm.catalog.models import Currency, PaymentMode, Tax
    from crm.core.models.settings import Staff

    ron = Currency(symbol="lei", name="RON", isdefault=True)
    eur = Currency(symbol="€", name="EUR", exchange_rate=Decimal("4.97"))
    vat = Tax(name="TVA", taxrate=Decimal("19.00"))
    bank = PaymentMode(name="Bank transfer", selected_by_default=True)
    cash = PaymentMode(name="Cash", selected_by_default=False)
    agent = Staff(email="agent@test.example", firstname="Ana", lastname="Agent", active=True)
    db.session.add_all([ron, eur, vat, bank, cash, agent])
    db.session.commit()
    return {"ron": ron.id, "eur": eur.id, "bank": bank.id, "cash": cash.id, "agent": agent.staffid}


def make_client(company="Nordic Trade SRL", email="buyer@nordic.ro"):
    from crm.sales.models.clients import Client, Contact

    client = Client(company=company, address="Str. Lunga 1", city="Brasov", zip="500001", country="Romania",
                    billing_street="Str. Lunga 1", billing_city="Brasov", billing_zip="500001",
                    billing_country="Romania", shipping_street="Depozit 7", shipping_city="Codlea",
                    shipping_country="Romania")
    db.session.add(client)
    db.session.flush()
    db.session.add(Contact(userid=client.userid, is_primary=True, firstname="Bogdan", lastname="Buyer",
                           email=email))
    db.session.commit()
    return client


def lines():
    """Two taxed lines and an optional one the client did not pick: 2 × 100 + 1 × 50.50 (+19%)."""
    from crm.sales.models.documents import ItemLine, ItemTax

    return [
        ItemLine(description="Laptop", long_description="14 inch", qty=Decimal("2"), rate=Decimal("100.00"),
                 unit="buc", item_order=1, taxes=[ItemTax(taxname="TVA", taxrate=Decimal("19.00"))]),
        ItemLine(description="Setup", qty=Decimal("1"), rate=Decimal("50.50"), unit="ora", item_order=2,
                 taxes=[ItemTax(taxname="TVA", taxrate=Decimal("19.00"))]),
        ItemLine(description="Extended warranty", qty=Decimal("1"), rate=Decimal("999.00"), item_order=3,
                 is_optional=True, is_selected=False),
    ]


def _document(doc, numbered=True):
    from crm.core.totals import refresh
    from crm.core import numbering

    for line in lines():
        doc.items.append(line)
    refresh(doc)
    db.session.add(doc)
    db.session.flush()
    if numbered:
        numbering.assign(doc)
    else:
        numbering.draft_prefix(doc)
    db.session.commit()
    return doc


def make_proposal(ids, client=None, status=3, rel_type="customer", rel_id=None, **kw):
    from crm.sales.models.documents import Proposal

    fields = dict(subject="Laptops for the Brasov office", date=TODAY, open_till=TODAY + timedelta(days=7),
                  rel_type=rel_type, rel_id=rel_id if rel_id is not None else (client.userid if client else None),
                  proposal_to=client.company if client else "Prospect", email="offers@nordic.ro",
                  address="Bd. Proposal 9", city="Brasov", country="Romania", currency=ids["eur"],
                  assigned=ids["agent"], status=status, discount_type="before_tax",
                  discount_percent=Decimal("10"), hash=secrets.token_hex(8))
    fields.update(kw)
    return _document(Proposal(**fields))


def make_estimate(ids, client, status=2, **kw):
    from crm.sales.models.documents import Estimate

    fields = dict(clientid=client.userid, date=TODAY, expirydate=TODAY + timedelta(days=10), currency=ids["ron"],
                  sale_agent=ids["agent"], status=status, billing_street="Str. Estimate 3", billing_city="Sibiu",
                  shipping_street="Depozit 7", include_shipping=True, terms="Plata in 30 zile")
    fields.update(kw)
    return _document(Estimate(**fields), numbered=status != 1)


def make_invoice(ids, client, status=1, duedate=None, **kw):
    from crm.sales.models.documents import Invoice

    fields = dict(clientid=client.userid, date=TODAY, duedate=duedate or TODAY + timedelta(days=30),
                  currency=ids["ron"], status=status)
    fields.update(kw)
    return _document(Invoice(**fields), numbered=status != 6)


# --- the entry points a person uses ---------------------------------------------------------

def press(client, resource, action, obj_id, data=None, page=None):
    """Press a grid button (or submit its form) with the CSRF token; returns the page shown after."""
    page = page or client.get(f"/admin/{resource}/").get_data(as_text=True)
    resp = client.post(f"/admin/{resource}/run-action/{action}/{obj_id}?url=/admin/{resource}/",
                       data={"csrf_token": csrf_from(page), **(data or {})}, follow_redirects=True)
    return resp


def api(client, headers, resource, obj_id, action, **data):
    return client.post(f"/api/v1/{resource}/{obj_id}/actions/{action}", json=data, headers=headers)


def cli(app, resource, obj_id, action, **data):
    return app.test_cli_runner().invoke(
        args=["crm", "action", resource, str(obj_id), action, *[f"{k}={v}" for k, v in data.items()]])


def get(app, model, pk):
    """A detached row, read fresh."""
    with app.app_context():
        obj = db.session.get(model, pk)
        if obj is not None:
            db.session.expunge(obj)
        return obj


def set_option(app, name, value):
    from crm.core import options

    with app.app_context():
        options.set(name, value)
        db.session.commit()
