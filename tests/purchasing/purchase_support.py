"""Builders shared by tests/test_purchase_*.py (no tests here): vendors with contacts, items, a tax,
a payment mode; an RFQ made through the API."""
from __future__ import annotations

import re
from decimal import Decimal

from crm.core.extensions import db


def purchase_data():
    from crm.catalog.models import Currency, Item, PaymentMode, Tax
    from crm.purchasing.models import Vendor, VendorContact

    ron = Currency(symbol="lei", name="RON", isdefault=True)
    vat = Tax(name="TVA", taxrate=Decimal("19.00"))
    bank = PaymentMode(name="Bank transfer", selected_by_default=True)
    db.session.add_all([ron, vat, bank])
    db.session.flush()
    v1 = Vendor(company="Alfa Distributie SRL", vendor_code="V-ALFA", city="Cluj")
    v2 = Vendor(company="Beta Import SA", vendor_code="V-BETA", city="Iasi")
    v3 = Vendor(company="Gamma Fara Email SRL", vendor_code="V-GAMMA")
    db.session.add_all([v1, v2, v3])
    db.session.flush()
    db.session.add_all([
        VendorContact(userid=v1.userid, is_primary=True, firstname="Ana", lastname="Alfa", email="oferte@alfa.ro"),
        VendorContact(userid=v2.userid, is_primary=True, firstname="Bogdan", lastname="Beta", email="sales@beta.ro"),
    ])
    paper = Item(description="Paper A4", commodity_code="P-A4", commodity_name="Paper A4", purchase_price=Decimal("20"),
                 rate=Decimal("30"))
    toner = Item(description="Toner", commodity_code="T-1", commodity_name="Toner black", purchase_price=Decimal("150"),
                 rate=Decimal("220"))
    db.session.add_all([paper, toner])
    db.session.commit()
    return {"ron": ron.id, "vat": vat.id, "bank": bank.id, "v1": v1.userid, "v2": v2.userid, "v3": v3.userid,
            "paper": paper.id, "toner": toner.id}


def create_rfq(client, headers, ids, **extra):
    body = {"pur_rq_name": "Office supplies for EST-000001", "currency": ids["ron"],
            "items": [{"item_code": ids["paper"], "quantity": "100", "unit_price": "20.00", "tax": ids["vat"]},
                      {"item_code": ids["toner"], "quantity": "4", "unit_price": "150.00"}]}
    body.update(extra)
    resp = client.post("/api/v1/pur_request", json=body, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def portal_link(html: str) -> str:
    m = re.search(r"https?://[^\s\"<]+/vendor/(?:quotation|order)/\d+/[0-9a-f]+", html)
    assert m, "no vendor portal link in the email"
    return m.group(0)
