"""Sample invoices covering every e-Factura case, written to the database: the test corpus, the
benchmark's 20-line invoice and the demo's e-Factura invoices come from here.

Each case is a real invoice with its client, lines and taxes; :func:`make_corpus` returns them
by case name. Rates and categories come from tax rows (21% / 11% standard since August 2025).
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from crm.core.totals import refresh
from crm.catalog.models import Currency, Tax
from crm.core import numbering, options
from crm.core.extensions import db
from crm.core.models.company import CompanyBankAccount
from crm.core.models.settings import Option
from crm.sales.models.clients import Client, Contact
from crm.sales.models.documents import Invoice, ItemLine, ItemTax

TAXES = [  # name, rate, category, exemption code, exemption text
    ("TVA 21%", "21", "S", None, None),
    ("TVA 11%", "11", "S", None, None),
    ("TVA 0% (cota zero)", "0", "Z", None, None),
    ("Scutit art. 292", "0", "E", "VATEX-EU-132", "Scutit conform art. 292 Cod fiscal"),
    ("Taxare inversa", "0", "AE", "VATEX-EU-AE", "Taxare inversa art. 331 Cod fiscal"),
    ("Livrare intracomunitara", "0", "K", "VATEX-EU-IC", "Livrare intracomunitara scutita art. 294"),
    ("Export", "0", "G", "VATEX-EU-G", "Export scutit art. 294"),
    ("Neinregistrat TVA", "0", "O", "VATEX-EU-O", "Furnizor neinregistrat in scopuri de TVA"),
]

COMPANY = {
    "companyname": "CRMConnect Demo SRL", "company_cui": "18547290", "company_vat_registered": "1",
    "company_trade_register": "J12/3456/2019", "company_street": "Str. Memorandumului 28",
    "company_city": "Cluj-Napoca", "company_county": "RO-CJ", "company_postal_code": "400114",
    "company_country": "RO", "company_email": "facturi@crmconnect.test", "company_phone": "+40 264 555 010",
    "company_website": "https://crmconnect.test",
}
BANK_ACCOUNT = ("Banca Demo", "RO49AAAA1B31007593840000")


def ensure_company() -> None:
    """Fill the company profile where it is still empty (never overwrites a setting)."""
    stored = {o.name for o in db.session.query(Option).all()}
    for name, value in COMPANY.items():
        if name not in stored:
            options.set(name, value)
    if db.session.query(CompanyBankAccount).first() is None:
        db.session.add(CompanyBankAccount(bank_name=BANK_ACCOUNT[0], iban=BANK_ACCOUNT[1], is_default=True))


def ensure_taxes() -> dict[str, object]:
    out = {}
    for name, rate, category, code, text in TAXES:
        tax = db.session.query(Tax).filter_by(name=name).one_or_none()
        if tax is None:
            tax = Tax(name=name, taxrate=Decimal(rate), vat_category=category, exemption_reason_code=code,
                      exemption_reason=text)
            db.session.add(tax)
        out[name] = tax
    db.session.flush()
    return out


def _currency(code: str, rate: str = "1"):
    cur = db.session.query(Currency).filter_by(name=code).one_or_none()
    if cur is None:
        cur = Currency(name=code, symbol=code, exchange_rate=Decimal(rate), isdefault=code == "RON")
        db.session.add(cur)
        db.session.flush()
    return cur


def make_client(company, vat=None, address="Str. Lunga 1", city="Brasov", state="Brasov", zip_="500001",
                country="Romania", contact=("Ana", "Buyer")):
    """``contact``: the primary contact's first and last name (a private person is their own contact)."""
    client = Client(company=company, vat=vat, address=address, city=city, state=state, zip=zip_, country=country)
    db.session.add(client)
    db.session.flush()
    first, last = contact
    db.session.add(Contact(userid=client.userid, is_primary=True, firstname=first, lastname=last,
                           email=f"buyer{client.userid}@example.test"))
    return client


def make_invoice(client, lines, currency="RON", rate=None, number=True, duedate=True, **kw):
    """An issued invoice; ``lines`` are (description, qty, price, tax name or None, unit, discount %)."""
    taxes = ensure_taxes()
    cur = _currency(currency, rate or "1")
    today = kw.pop("date", date.today())
    inv = Invoice(clientid=client.userid, date=today, duedate=(today + timedelta(days=30)) if duedate else None,
                  currency=cur.id, status=1, exchange_rate=Decimal(rate) if rate else None, **kw)
    inv.client = client
    for order, (desc, qty, price, tax, unit, pct) in enumerate(lines, start=1):
        line = ItemLine(description=desc, qty=Decimal(str(qty)), rate=Decimal(str(price)), unit=unit,
                        item_order=order, discount_percent=Decimal(str(pct or 0)))
        if tax:
            line.taxes.append(ItemTax(taxname=tax, taxrate=taxes[tax].taxrate))
        inv.items.append(line)
    refresh(inv)
    db.session.add(inv)
    db.session.flush()
    if number:
        numbering.assign(inv)
    return inv


def twenty_lines():
    return [(f"Produs {i}", (i % 5) + 1, f"{10 + i * 3.25:.2f}", "TVA 21%" if i % 3 else "TVA 11%",
             "buc" if i % 2 else "ora", 5 if i % 4 == 0 else 0) for i in range(1, 21)]


def make_corpus() -> dict[str, object]:
    """Every case the issue names, as invoices in the database (the caller commits); the seller not
    registered for VAT (category O) is :func:`make_not_vat_registered_case`, as it changes a setting."""
    ensure_company()
    ensure_taxes()
    cases = {}
    cluj = make_client("Nordic Trade SRL", vat="RO14399840", address="Str. Fabricii 3", city="Cluj-Napoca",
                       state="Cluj", zip_="400620")
    cases["standard_two_rates"] = make_invoice(cluj, [
        ("Laptop", 2, "3500.00", "TVA 21%", "buc", 0), ("Carte tehnica", 3, "89.90", "TVA 11%", "buc", 0)])
    buc = make_client("Capital Consulting SRL", vat="RO16054368", address="Bd. Unirii 20", city="Sector 3",
                      state="București", zip_="030833")
    cases["bucharest_discounts"] = make_invoice(buc, [
        ("Consultanta", "12.5", "250.00", "TVA 21%", "ora", 10), ("Licenta", 1, "1200.00", "TVA 21%", "buc", 0),
        ("Manual", 4, "45.00", "TVA 11%", "buc", 5)], discount_type="before_tax", discount_percent=Decimal("5"))
    cases["zero_exempt_mixed"] = make_invoice(cluj, [
        ("Transport international", 1, "800.00", "TVA 0% (cota zero)", None, 0),
        ("Curs autorizat", 2, "450.00", "Scutit art. 292", None, 0),
        ("Service", 1, "300.00", "TVA 21%", "ora", 0)])
    cases["reverse_charge"] = make_invoice(cluj, [("Deseuri feroase", "1250.5", "1.20", "Taxare inversa", "kg", 0)])
    de = make_client("Berliner Handel GmbH", vat="DE811569869", address="Friedrichstrasse 10", city="Berlin",
                     state="Berlin", zip_="10117", country="Germany")
    cases["intra_eu_eur"] = make_invoice(de, [("Piese schimb", 10, "42.50", "Livrare intracomunitara", "buc", 0)],
                                         currency="EUR", rate="4.9750")
    us = make_client("Acme Imports Inc", vat="US123456789", address="500 Main Street", city="Boston", state="MA",
                     zip_="02110", country="US")
    cases["export_usd"] = make_invoice(us, [("Software license", 1, "2000.00", "Export", None, 0)],
                                       currency="USD", rate="4.3210")
    cases["foreign_currency_vat"] = make_invoice(cluj, [("Servicii IT", 10, "95.00", "TVA 21%", "ora", 0)],
                                                 currency="EUR", rate="4.9750")
    private = make_client("Ion Popescu", vat=None, address="Str. Florilor 5", city="Iasi", state="IS", zip_="700001",
                          contact=("Ion", "Popescu"))
    cases["private_buyer_terms"] = make_invoice(private, [("Abonament", 1, "49.99", "TVA 21%", None, 0)],
                                                duedate=False, terms="Plata in 15 zile de la emitere")
    cases["credit_note"] = make_invoice(cluj, [("Retur laptop", -1, "3500.00", "TVA 21%", "buc", 0)])
    cases["rounding_adjustment"] = make_invoice(cluj, [("Cafea", 3, "33.33", "TVA 11%", "kg", 0)],
                                                adjustment=Decimal("0.01"))
    cases["twenty_lines"] = make_invoice(cluj, twenty_lines())
    db.session.flush()
    return cases


def make_not_vat_registered_case():
    """An invoice of a seller not registered for VAT (all lines O); sets company_vat_registered off."""
    ensure_company()
    options.set("company_vat_registered", "0")
    private = make_client("Maria Ionescu", vat=None, address="Str. Viilor 2", city="Sector 6", state="B",
                          zip_="060001", contact=("Maria", "Ionescu"))
    return make_invoice(private, [("Lectii pian", 4, "100.00", "Neinregistrat TVA", "ora", 0)])
