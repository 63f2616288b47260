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
awaiting inspection.
"""
from __future__ import annotations

import json
import os
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import click
from sqlalchemy import func, select, update

from crm.catalog.models import Currency, Item, ItemGroup, PaymentMode, Tax, Unit
from crm.core import entry, options
from crm.core.extensions import db
from crm.core.models.base import money
from crm.core.models.records import ActivityLog
from crm.core.models.settings import Role, Staff
from crm.core.registry import run
from crm.core.resources import primary_key
from crm.core.roles import ensure_roles
from crm.core.totals import line_net, vat
from crm.purchasing.actions.purchase_common import refresh_totals
from crm.capture import facebook_sandbox
from crm.efactura import samples
from crm.efactura import sandbox as anaf
from crm.capture.facebook_models import FacebookLead
from crm.online_payments.actions import stripe_mode
from crm.purchasing.actions.purchase_common import assign_number
from crm.reports.rollup import build_months
from crm.sales.actions.estimates import expire_sent
from crm.sales.models.marketing import MarketingCampaign
from crm.sandbox import DEMO_KEYS
from crm.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderDetail,
    PurchaseQuotation,
    PurchaseRequest,
    Vendor,
    VendorContact,
    VendorInvoice,
    VendorInvoiceDetail,
)
from crm.sales.actions.proposals import client_viewed
from crm.sales.models.clients import (
    Client,
    Contact,
    Lead,
    LeadActivityLog,
    LeadSource,
    LeadStatus,
    Note,
    OpportunityStatus,
    Pipeline,
    Reminder,
    SalesActivity,
)
from crm.sales.models.documents import (
    Contract,
    ContractStatus,
    ContractType,
    Estimate,
    Goal,
    GoalType,
    Invoice,
    ItemLine,
    ItemTax,
    Proposal,
)
from crm.warehouse.models import (
    GoodsDelivery,
    GoodsReceipt,
    GoodsReceiptDetail,
    InventoryBalance,
    LossAdjustment,
    LossAdjustmentDetail,
    MinimumStock,
    OrderReturn,
    OrderReturnDetail,
    PackingList,
    PhysicalInventory,
    StockTransaction,
    Warehouse,
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
            return run(type(obj), _rel_id(obj), name, self.staff[role], params)


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


# --- small helpers -----------------------------------------------------------------------

def _pk(model):
    return getattr(model, primary_key(model))


def _rel_id(obj) -> int:
    return getattr(obj, primary_key(type(obj)))


def _ensure(model, match: dict, **values):
    """The settings row matching ``match``, created with ``values`` if missing (edits are kept)."""
    row = db.session.query(model).filter_by(**match).first()
    if row is None:
        row = model(**match, **values)
        db.session.add(row)
    return row


def _dated(obj, **values) -> None:
    """After an action: move the dates it stamped today (a conversion's, a document's own) to the
    demo's day, and fill in what a person then types on the document's form."""
    for name, value in values.items():
        setattr(obj, name, value)


def _entered(d: Demo, doc, role: str, when: datetime):
    """A document typed in a form by ``role``: the generic door's rules (creator, totals, a draft's
    PREFIX + DRAFT), created at ``when``."""
    db.session.add(doc)
    entry.entered(doc, d.staff[role])
    if hasattr(doc, "datecreated"):
        doc.datecreated = when
    db.session.flush()
    return doc


def _address(street, city, county, zip_code) -> dict:
    return {"street": street, "city": city, "state": county, "zip": zip_code, "country": COUNTRY}


def _address_columns(billing: dict, shipping: dict | None = None) -> dict:
    """address/city/state/zip/country plus billing_* and shipping_* of a client or vendor row."""
    shipping = shipping or billing
    columns = {"address": billing["street"], **{k: billing[k] for k in ("city", "state", "zip", "country")}}
    columns.update({f"billing_{k}": v for k, v in billing.items()})
    columns.update({f"shipping_{k}": v for k, v in shipping.items()})
    return columns


def _primary_contact(client: Client) -> Contact:
    return next(c for c in client.contacts if c.is_primary)


def _lines(model, d: Demo, lines) -> list:
    """Purchase or warehouse lines as typed: (item code, quantity[, unit price]) with the item's tax."""
    out = []
    for code, qty, *price in lines:
        item = d.items[code]
        out.append(model(item_code=item.id, unit_id=item.unit_id, quantity=Decimal(qty), tax=item.tax,
                         unit_price=Decimal(price[0]) if price else item.purchase_price,
                         **{"item_text" if hasattr(model, "item_text") else "description": item.commodity_name}))
    return out


# --- settings ------------------------------------------------------------------------------

PIPELINES = (("Direct sales", True), ("Partners", False))  # name, default
LEAD_STATUSES = (("New", "#28B8DA"), ("Contacted", "#03A9F4"), ("Qualified", "#7CB342"),
                 ("Demo scheduled", "#FF9800"), ("Proposal sent", "#8E24AA"))
LEAD_SOURCES = ("Web form", "Facebook Lead Ads", "Email", "Excel import", "Referral", "Manual")
OPPORTUNITY_STATUSES = (  # name, colour, won, lost
    ("Qualification", "#84C529", False, False), ("Needs analysis", "#03A9F4", False, False),
    ("Negotiation", "#FF9800", False, False), ("Won", "#2E7D32", True, False), ("Lost", "#C62828", False, True))
CONTRACT_TYPES = ("Service agreement", "SLA", "Supply framework")
CONTRACT_STATUSES = (("Draft", "#9E9E9E"), ("Active", "#43A047"), ("Expired", "#FB8C00"), ("Terminated", "#E53935"))
CURRENCIES = (  # ISO code, symbol, placement, default, units of RON per unit
    ("RON", "lei", "after", True, "1"), ("EUR", "€", "before", False, "4.9750"))
TAXES = (  # name, rate, e-Factura VAT category, exemption reason code, exemption reason
    ("TVA 21%", "21", "S", None, None),
    ("TVA 11%", "11", "S", None, None),
    ("Scutit", "0", "E", "VATEX-EU-132-1I", "Scutit de TVA: formare profesională (art. 292 Cod fiscal)"))
PAYMENT_MODES = (  # name, description, selected by default, cash on delivery
    ("Bank transfer", "Ordin de plată în contul RO49 AAAA 1B31 0075 9384 0000, Banca Transilvania", True, False),
    ("Cash", "Numerar la sediu, cu chitanță", False, False),
    ("Card", "Card bancar la POS sau online", False, False),
    ("Ramburs", "Plata la curier, la livrarea coletului", False, True))
UNITS = (("BUC", "buc", "Bucată"), ("KG", "kg", "Kilogram"), ("SET", "set", "Set"))  # code, symbol, name
ITEM_GROUPS = ("Echipamente IT", "Consumabile birou", "Horeca", "Servicii")
WAREHOUSES = (  # code, name, address
    ("WH-BUC", "Depozit București", _address("Bd. Theodor Pallady nr. 51, Hala 4", "Sector 3", "București", "032258")),
    ("WH-CLJ", "Depozit Cluj", _address("Str. Traian Vuia nr. 208", "Cluj-Napoca", "Cluj", "400397")))


def _settings(d: Demo) -> None:
    """Settings: pipelines, lead statuses and sources, currencies, taxes, units, warehouses"""
    for order, (name, default) in enumerate(PIPELINES, 1):
        d.pipelines[name] = _ensure(Pipeline, {"name": name}, pipeline_order=order, isdefault=default)
    db.session.flush()
    for pipeline in d.pipelines.values():
        for order, (name, color) in enumerate(LEAD_STATUSES, 1):
            d.lead_statuses[(pipeline.name, name)] = _ensure(
                LeadStatus, {"name": name, "pipeline": pipeline.id}, statusorder=order, color=color,
                isdefault=pipeline.isdefault and order == 1)
    for name in LEAD_SOURCES:
        d.sources[name] = _ensure(LeadSource, {"name": name})
    for order, (name, color, won, lost) in enumerate(OPPORTUNITY_STATUSES, 1):
        d.opportunity_statuses[name] = _ensure(OpportunityStatus, {"name": name}, statusorder=order, color=color,
                                               isdefault=order == 1, is_won=won, is_lost=lost)
    for name in CONTRACT_TYPES:
        d.contract_types[name] = _ensure(ContractType, {"name": name})
    for order, (name, color) in enumerate(CONTRACT_STATUSES, 1):
        d.contract_statuses[name] = _ensure(ContractStatus, {"name": name}, color=color, statusorder=order,
                                            isdefault=order == 1)
    for code, symbol, placement, default, rate in CURRENCIES:
        d.currencies[code] = _ensure(Currency, {"name": code}, symbol=symbol, placement=placement,
                                     decimal_separator=",", thousand_separator=".", isdefault=default,
                                     exchange_rate=Decimal(rate))
    for name, rate, category, reason_code, reason in TAXES:
        d.taxes[name] = _ensure(Tax, {"name": name}, taxrate=Decimal(rate), vat_category=category,
                                exemption_reason_code=reason_code, exemption_reason=reason)
    for name, description, default, cod in PAYMENT_MODES:
        d.payment_modes[name] = _ensure(PaymentMode, {"name": name}, description=description, active=True,
                                        show_on_pdf=True, selected_by_default=default, cash_on_delivery=cod)
    for code, symbol, name in UNITS:
        d.units[symbol] = _ensure(Unit, {"unit_code": code}, unit_symbol=symbol, unit_name=name, display=True)
    for name in ITEM_GROUPS:
        d.groups[name] = _ensure(ItemGroup, {"name": name})
    for order, (code, name, addr) in enumerate(WAREHOUSES, 1):
        d.warehouses[code] = _ensure(Warehouse, {"warehouse_code": code}, warehouse_name=name,
                                     warehouse_address=addr["street"], city=addr["city"], state=addr["state"],
                                     zip_code=addr["zip"], country=COUNTRY, order=order, display=1)
    db.session.flush()
    options.set("default_warehouse_id", d.warehouses["WH-BUC"].warehouse_id)


# --- staff -----------------------------------------------------------------------------------

STAFF = (  # role, email, first name, last name, phone
    ("SDR", "sdr@crmconnect.test", "Andreea", "Ionescu", "+40 721 100 201"),
    ("Sales Agent", "agent@crmconnect.test", "Mihai", "Popescu", "+40 721 100 202"),
    ("Sales Manager", "manager@crmconnect.test", "Elena", "Dumitrescu", "+40 721 100 203"),
    ("Warehouse", "warehouse@crmconnect.test", "Vlad", "Stan", "+40 721 100 204"),
    ("Purchasing", "purchasing@crmconnect.test", "Ioana", "Marin", "+40 721 100 205"),
    ("Finance", "finance@crmconnect.test", "Cristina", "Radu", "+40 721 100 206"),
)


def _staff(d: Demo) -> None:
    """Staff: one member per role, password demo1234"""
    ensure_roles()
    db.session.flush()
    for role_name, email, first, last, phone in STAFF:
        role = db.session.query(Role).filter_by(name=role_name).one()
        member = _ensure(Staff, {"email": email}, firstname=first, lastname=last, phonenumber=phone,
                         role=role.roleid, admin=False, active=True, datecreated=d.at(-400))
        if not member.password:
            member.set_password(PASSWORD)
        d.staff[role_name] = member
    db.session.flush()


# --- catalog -------------------------------------------------------------------------------

ITEMS = (  # code, EAN-13, name, unit, group, tax, purchase price, sale price, min, max (None: a service)
    ("LAP-5440", "5948001000016", "Laptop Dell Latitude 5440, i5, 16 GB, SSD 512 GB", "buc", "Echipamente IT",
     "TVA 21%", "3850.00", "4790.00", 4, 20),
    ("MON-P2425", "5948001000023", "Monitor Dell P2425H 24\" IPS", "buc", "Echipamente IT",
     "TVA 21%", "705.00", "929.00", 8, 30),
    ("TON-59A", "5948001000030", "Toner HP 59A CF259A", "buc", "Consumabile birou",
     "TVA 21%", "415.00", "569.00", 15, 40),
    ("CAB-C6", "5948001000047", "Cablu UTP Cat6, rolă 305 m", "buc", "Echipamente IT",
     "TVA 21%", "520.00", "689.00", 2, 10),
    ("KIT-ONB", "5948001000054", "Kit onboarding birou (mouse, tastatură, căști)", "set", "Echipamente IT",
     "TVA 21%", "165.00", "239.00", 5, 20),
    ("PAP-A4", "5948001000061", "Hârtie copiator A4 80 g/m², top 500 coli", "buc", "Consumabile birou",
     "TVA 21%", "17.90", "24.50", 100, 400),
    ("ETK-100", "5948001000078", "Etichete termice 100x150 mm, rolă 500 buc", "buc", "Consumabile birou",
     "TVA 21%", "21.00", "32.00", 20, 100),
    ("DEZ-5L", "5948001000085", "Dezinfectant suprafețe, bidon 5 L", "buc", "Consumabile birou",
     "TVA 21%", "48.00", "69.00", 10, 40),
    ("CAF-1KG", "5948001000092", "Cafea boabe Lavazza Super Crema", "kg", "Horeca",
     "TVA 11%", "68.00", "92.00", 20, 80),
    ("SRV-INST", "5948001000108", "Instalare și configurare echipamente (oră)", "buc", "Servicii",
     "TVA 21%", None, "180.00", None, None),
    ("SRV-MNT", "5948001000115", "Abonament mentenanță IT (lună)", "buc", "Servicii",
     "TVA 21%", None, "1450.00", None, None),
    ("SRV-TRN", "5948001000122", "Curs instruire utilizatori (sesiune 4 ore)", "buc", "Servicii",
     "Scutit", None, "1200.00", None, None),
)


def _catalog(d: Demo) -> None:
    """Catalog: commodities and services, minimum and maximum stock"""
    for code, barcode, name, unit, group, tax, cost, price, minimum, maximum in ITEMS:
        service = minimum is None
        item = Item(commodity_code=code, sku_code=code, commodity_barcode=barcode, commodity_name=name,
                    description=name, rate=Decimal(price), purchase_price=Decimal(cost) if cost else None,
                    tax_rel=d.taxes[tax], unit=unit, unit_type=d.units[unit], group=d.groups[group],
                    without_checking_warehouse=service, active=True)
        db.session.add(item)
        d.items[code] = item
        if not service:
            db.session.add(MinimumStock(commodity=item, commodity_code=code, commodity_name=name,
                                        inventory_number_min=Decimal(minimum),
                                        inventory_number_max=Decimal(maximum)))


# --- vendors ---------------------------------------------------------------------------------

VENDORS = (  # key, code, company, VAT, phone, address, website, payment terms
    ("tech", "VND-001", "Tech Distribution SRL", "RO14123453", "+40 21 410 2200",
     _address("Bd. Iuliu Maniu nr. 220", "Sector 6", "București", "061126"), "techdistribution.ro", "30 de zile"),
    ("office", "VND-002", "Office Direct Supplies SRL", "RO22876541", "+40 264 450 900",
     _address("Calea Florești nr. 91", "Cluj-Napoca", "Cluj", "400509"), "officedirect.ro", "30 de zile"),
    ("euroit", "VND-003", "Euro IT Supply SRL", "RO31654323", "+40 256 220 415",
     _address("Calea Șagului nr. 150", "Timișoara", "Timiș", "300517"), "euroitsupply.ro", "15 zile"),
)
VENDOR_CONTACTS = (  # vendor, first name, last name, title, email, phone
    ("tech", "Cosmin", "Vasilescu", "Key account manager", "cosmin.vasilescu@techdistribution.ro", "+40 744 512 330"),
    ("tech", "Raluca", "Enache", "Contabilitate", "facturare@techdistribution.ro", "+40 21 410 2210"),
    ("office", "Sergiu", "Pop", "Agent vânzări", "sergiu.pop@officedirect.ro", "+40 745 118 902"),
    ("euroit", "Alina", "Bălan", "Vânzări B2B", "alina.balan@euroitsupply.ro", "+40 723 440 117"),
)


def _vendors(d: Demo) -> None:
    """Vendors: suppliers and their contacts"""
    for key, code, company, vat, phone, addr, website, terms in VENDORS:
        vendor = Vendor(vendor_code=code, company=company, vat=vat, phonenumber=phone, website=website,
                        payment_terms=terms, default_currency=d.currencies["RON"].id,
                        addedfrom=d.staff_id("Purchasing"), datecreated=d.at(-400), active=True,
                        **_address_columns(addr))
        db.session.add(vendor)
        d.vendors[key] = vendor
    for key, first, last, title, email, phone in VENDOR_CONTACTS:
        d.vendors[key].contacts.append(VendorContact(firstname=first, lastname=last, title=title, email=email,
                                                     phonenumber=phone, is_primary=not d.vendors[key].contacts))


# --- stock -----------------------------------------------------------------------------------

def _put_away(d: Demo, receipt: GoodsReceipt, days: int, invoice_no: str, lots) -> GoodsReceipt:
    """The warehouse writes each line's lot (``lots``: (made, expires) day offsets) on a draft
    receipt and approves it on day ``days``: the goods go in stock through the approve action."""
    receipt.date_c = receipt.date_add = d.day(days)
    receipt.invoice_no, receipt.addedfrom = invoice_no, d.staff_id("Warehouse")
    receipt.description = f"Recepție {receipt.supplier_name}, factura {invoice_no}"
    for line, (made, expires) in zip(receipt.items, lots):
        line.lot_number, line.date_manufacture = d.next_lot(), d.day(made)
        line.expiry_date = d.day(expires) if expires is not None else None
    d.act(receipt, "approve", "Warehouse", d.at(days, 9))
    return receipt


def _opening_stock(d: Demo) -> None:
    """Stock: approved goods receipts with lots in both warehouses"""
    for key, vendor_key, warehouse_code, days, invoice_no, lines in RECEIPTS:
        vendor, warehouse = d.vendors[vendor_key], d.warehouses[warehouse_code]
        receipt = GoodsReceipt(supplier_code=vendor.userid, supplier_name=vendor.company, approval=0,
                               buyer_id=d.staff_id("Purchasing"), warehouse_id=warehouse.warehouse_id)
        for code, qty, _, _ in lines:
            item = d.items[code]
            net = line_net(qty, item.purchase_price)
            receipt.items.append(GoodsReceiptDetail(
                commodity_code=item.id, commodity_name=item.commodity_name, warehouse_id=warehouse.warehouse_id,
                unit_id=item.unit_id, quantities=Decimal(qty), unit_price=item.purchase_price, tax=item.tax,
                goods_money=net, tax_money=vat(net, item.tax_rel.taxrate)))
        receipt.total_goods_money = receipt.value_of_inventory = sum(line.goods_money for line in receipt.items)
        receipt.total_tax_money = sum(line.tax_money for line in receipt.items)
        receipt.total_money = receipt.total_goods_money + receipt.total_tax_money
        db.session.add(receipt)
        d.docs[key] = _put_away(d, receipt, days, invoice_no, [(made, expires) for _, _, made, expires in lines])


RECEIPTS = (  # key, vendor, warehouse, day, vendor invoice, lines: (item, qty, made day, expiry day or None)
    ("nk_tech_buc", "tech", "WH-BUC", -120, "TD-26-001245",
     (("LAP-5440", 10, -150, None), ("MON-P2425", 8, -140, None), ("TON-59A", 8, -200, 500),
      ("CAB-C6", 6, -160, None))),
    ("nk_office_buc", "office", "WH-BUC", -100, "ODS-0088412",
     (("PAP-A4", 200, -130, None), ("ETK-100", 60, -130, 600), ("CAF-1KG", 40, -345, 20),
      ("DEZ-5L", 30, -110, 250), ("KIT-ONB", 12, -120, None))),
    ("nk_tech_clj", "tech", "WH-CLJ", -90, "TD-26-001377",
     (("LAP-5440", 6, -140, None), ("MON-P2425", 6, -130, None), ("TON-59A", 2, -190, 480))),
    ("nk_office_clj", "office", "WH-CLJ", -85, "ODS-0088977",
     (("PAP-A4", 120, -120, None), ("CAF-1KG", 25, -60, 300), ("DEZ-5L", 10, -100, 260),
      ("KIT-ONB", 5, -110, None))),
    ("nk_office_recent", "office", "WH-BUC", -20, "ODS-0091273",
     (("ETK-100", 40, -45, 700), ("PAP-A4", 100, -30, None))),
)


# --- clients ---------------------------------------------------------------------------------

CLIENTS = (  # key, company, VAT (CUI), Reg. Com., phone, website, currency, billing, shipping (None: same)
    ("carpathia", "Carpathia Logistics SRL", "RO18234560", "J40/5612/2005", "+40 21 323 4550",
     "carpathia-logistics.ro", "RON", _address("Bd. Decebal nr. 12, bl. S7, et. 2", "Sector 3", "București", "030964"),
     _address("Șos. Berceni nr. 104, Hala C", "Sector 4", "București", "041919")),
    ("transilvania", "Transilvania Retail SA", "RO24567810", "J12/3321/2008", "+40 264 590 100",
     "transilvaniaretail.ro", "RON", _address("Str. Memorandumului nr. 28", "Cluj-Napoca", "Cluj", "400114"),
     _address("Str. Fabricii de Zahăr nr. 7", "Cluj-Napoca", "Cluj", "400632")),
    ("dunarea", "Dunărea Agro SRL", "RO30987656", "J17/845/2012", "+40 236 410 552", "dunareaagro.ro", "RON",
     _address("Str. Brăilei nr. 45", "Galați", "Galați", "800310"), None),
    ("banat", "Banat Industrial Components SRL", "RO16543216", "J35/2210/2004", "+40 256 300 780",
     "banat-components.ro", "EUR", _address("Calea Aradului nr. 70", "Timișoara", "Timiș", "300291"), None),
    ("moldova", "Moldova Pharma Distribution SRL", "RO27654325", "J22/1456/2010", "+40 232 210 640",
     "moldovapharma.ro", "RON", _address("Bd. Independenței nr. 5", "Iași", "Iași", "700102"), None),
    ("litoral", "Litoral Hospitality SRL", "RO33445560", "J13/987/2014", "+40 241 831 200",
     "litoralhospitality.ro", "RON", _address("Bd. Mamaia nr. 255", "Constanța", "Constanța", "900527"), None),
    ("brasov", "Brașov Auto Parts SRL", "RO21987657", "J08/1789/2007", "+40 268 470 355",
     "brasovautoparts.ro", "RON", _address("Str. Zizinului nr. 110", "Brașov", "Brașov", "500407"), None),
    ("nordic", "Nordic Software Solutions SRL", "RO38765434", "J40/12345/2017", "+40 31 860 4400",
     "nordicsoft.ro", "EUR", _address("Str. Fabrica de Glucoză nr. 11, et. 5", "Sector 2", "București", "020331"),
     None),
)
CONTACTS = (  # client, first name, last name, title, email, phone (the first one is primary)
    ("carpathia", "Radu", "Georgescu", "Director operațiuni", "radu.georgescu@carpathia-logistics.ro",
     "+40 722 314 551"),
    ("carpathia", "Irina", "Matei", "Contabil șef", "contabilitate@carpathia-logistics.ro", "+40 21 323 4551"),
    ("transilvania", "Horia", "Mureșan", "Director IT", "horia.muresan@transilvaniaretail.ro", "+40 740 221 908"),
    ("transilvania", "Carmen", "Rus", "Achiziții", "achizitii@transilvaniaretail.ro", "+40 264 590 105"),
    ("dunarea", "Florin", "Munteanu", "Administrator", "florin.munteanu@dunareaagro.ro", "+40 745 612 004"),
    ("banat", "Adriana", "Kovacs", "Achiziții", "adriana.kovacs@banat-components.ro", "+40 733 508 219"),
    ("moldova", "Cătălin", "Rusu", "IT Manager", "catalin.rusu@moldovapharma.ro", "+40 752 330 871"),
    ("litoral", "Mihaela", "Stan", "Director general", "mihaela.stan@litoralhospitality.ro", "+40 723 900 415"),
    ("brasov", "Dan", "Marinescu", "Manager service", "dan.marinescu@brasovautoparts.ro", "+40 744 207 663"),
    ("nordic", "Lars", "Nielsen", "Managing Director", "lars.nielsen@nordicsoft.ro", "+40 730 118 442"),
    ("nordic", "Oana", "Dinu", "Office manager", "office@nordicsoft.ro", "+40 31 860 4401"),
)


def _clients(d: Demo) -> None:
    """Clients: Romanian companies with addresses and contacts"""
    for key, company, vat_code, reg, phone, website, currency, billing, shipping in CLIENTS:
        client = d.clients.get(key)  # a lead converted to a customer already made it
        if client is None:
            client = d.clients[key] = Client(company=company, addedfrom=d.staff_id("Sales Agent"),
                                             datecreated=d.at(-180))
            db.session.add(client)
        for name, value in dict(vat=vat_code, registration_number=reg, phonenumber=phone, website=website,
                                default_currency=d.currencies[currency].id, active=True,
                                **_address_columns(billing, shipping)).items():
            setattr(client, name, value)
    for key, first, last, title, email, phone in CONTACTS:
        client = d.clients[key]
        contact = next((c for c in client.contacts if c.email == email), None)
        if contact is None:
            contact = Contact(firstname=first, lastname=last, email=email, is_primary=not client.contacts,
                              datecreated=client.datecreated)
            client.contacts.append(contact)
        contact.title, contact.phonenumber = title, phone


# --- leads and opportunities --------------------------------------------------------------------

LEADS = (  # key, name, company, email, phone, city, county, pipeline, status, source, assigned, value, days ago
    ("carpathia", "Radu Georgescu", "Carpathia Logistics SRL", "radu.georgescu@carpathia-logistics.ro",
     "+40 722 314 551", "Sector 3", "București", "Direct sales", "Proposal sent", "Web form", "Sales Agent",
     "68000", 95),
    ("nordic", "Lars Nielsen", "Nordic Software Solutions SRL", "lars.nielsen@nordicsoft.ro", "+40 730 118 442",
     "Sector 2", "București", "Direct sales", "Proposal sent", "Referral", "Sales Manager", "95000", 80),
    ("dunarea", "Florin Munteanu", "Dunărea Agro SRL", "florin.munteanu@dunareaagro.ro", "+40 745 612 004",
     "Galați", "Galați", "Direct sales", "Qualified", "Facebook Lead Ads", "Sales Agent", "36000", 40),
    ("banat", "Adriana Kovacs", "Banat Industrial Components SRL", "adriana.kovacs@banat-components.ro",
     "+40 733 508 219", "Timișoara", "Timiș", "Partners", "Demo scheduled", "Email", "Sales Manager", "90000", 55),
    ("moldova", "Cătălin Rusu", "Moldova Pharma Distribution SRL", "catalin.rusu@moldovapharma.ro",
     "+40 752 330 871", "Iași", "Iași", "Direct sales", "Demo scheduled", "Web form", "Sales Agent", "58000", 30),
    ("petrescu", "Sorin Petrescu", "Petrescu Distribuție SRL", "sorin@petrescudistributie.ro", "+40 744 901 233",
     "Brașov", "Brașov", "Partners", "Qualified", "Manual", "Sales Manager", "52000", 70),
    ("toma", "Elisabeta Toma", "Toma Retail SRL", "elisabeta.toma@tomaretail.ro", "+40 746 300 128",
     "Buzău", "Buzău", "Direct sales", "Proposal sent", "Web form", "Sales Agent", "19000", 35),
    ("vila", "Simona Pavel", "Vila Carpați Boutique Hotel SRL", "rezervari@vilacarpati.ro", "+40 751 220 094",
     "Sinaia", "Prahova", "Direct sales", "New", "Facebook Lead Ads", "SDR", "8500", 2),
    ("neagu", "Alexandru Neagu", "Neagu Construct SRL", "alexandru@neaguconstruct.ro", "+40 724 518 300",
     "Ploiești", "Prahova", "Direct sales", "New", "Excel import", "SDR", "12000", 5),
    ("zambet", "Gabriela Stoica", "Clinica Dentară Zâmbet SRL", "office@clinicazambet.ro", "+40 251 412 090",
     "Craiova", "Dolj", "Direct sales", "Contacted", "Web form", "SDR", "6500", 12),
    ("ene", "Bogdan Ene", "Ene & Fiii Transport SRL", "bogdan.ene@enetransport.ro", "+40 728 009 441",
     "Pitești", "Argeș", "Direct sales", "Contacted", "Manual", "SDR", "15000", 15),
    ("edusmart", "Ioana Matei", "Edu Smart Kids SRL", "ioana.matei@edusmart.ro", "+40 269 210 876",
     "Sibiu", "Sibiu", "Direct sales", "Qualified", "Email", "Sales Agent", "21000", 20),
    ("dobre", "Cristian Dobre", "Dobre Mobila SRL", "contact@dobremobila.ro", "+40 230 520 114",
     "Suceava", "Suceava", "Direct sales", "New", "Excel import", "SDR", "9000", 3),
    ("voicu", "Daniela Voicu", "Farmacia Voicu SRL", "daniela@farmaciavoicu.ro", "+40 234 580 212",
     "Bacău", "Bacău", "Direct sales", "Contacted", "Facebook Lead Ads", "SDR", "4800", 9),
    ("lazar", "Marius Lazăr", "Lazăr Consulting SRL", "marius@lazarconsulting.ro", "+40 259 400 718",
     "Oradea", "Bihor", "Direct sales", "Qualified", "Referral", "Sales Agent", "17500", 25),
    ("iliescu", "Roxana Iliescu", "Iliescu Design Studio SRL", "roxana@iliescudesign.ro", "+40 726 114 590",
     "Sector 1", "București", "Direct sales", "Demo scheduled", "Web form", "Sales Agent", "11000", 18),
    ("sarbu", "Diana Sârbu", "Sârbu Medical SRL", "diana.sarbu@sarbumedical.ro", "+40 256 494 300",
     "Timișoara", "Timiș", "Direct sales", "Contacted", "Email", "SDR", "9500", 8),
    ("tehno", "Paul Constantinescu", "Tehno Service Arad SRL", "paul@tehnoservice.ro", "+40 257 280 655",
     "Arad", "Arad", "Partners", "New", "Email", "SDR", "30000", 4),
    ("moldovan", "Larisa Moldovan", "Moldovan IT Partner SRL", "larisa@moldovanit.ro", "+40 740 660 312",
     "Cluj-Napoca", "Cluj", "Partners", "Contacted", "Referral", "Sales Manager", "45000", 21),
    ("barbu", "Anca Barbu", "Barbu Soft Integrator SRL", "anca.barbu@barbusoft.ro", "+40 241 600 901",
     "Constanța", "Constanța", "Partners", "Demo scheduled", "Email", "Sales Manager", "60000", 28),
    ("oprea", "Victor Oprea", "Oprea Net Solutions SRL", "victor@oprea-net.ro", "+40 265 210 478",
     "Târgu Mureș", "Mureș", "Partners", "Proposal sent", "Referral", "Sales Manager", "75000", 45),
    ("ardeleanu", "George Ardeleanu", "Ardeleanu Agro SRL", "george@ardeleanuagro.ro", "+40 258 811 203",
     "Alba Iulia", "Alba", "Partners", "New", "Facebook Lead Ads", "SDR", "7000", 1),
    ("craciun", "Ovidiu Crăciun", "Crăciun Metal SRL", "ovidiu@craciunmetal.ro", "+40 255 213 870",
     "Reșița", "Caraș-Severin", "Direct sales", "Qualified", "Email", "Sales Agent", "23000", 60),
    ("niculescu", "Teodora Niculescu", "Niculescu Events SRL", "teodora@niculescuevents.ro", "+40 729 447 015",
     "Sector 5", "București", "Direct sales", "Demo scheduled", "Web form", "Sales Agent", "14000", 50),
    ("spam", "Test Test", "asdf", "test@test.com", "0000000000", None, None, "Direct sales", "New", "Web form",
     "SDR", None, 7),
)
LOST_LEADS = {"craciun": "Buget amânat pentru anul viitor", "niculescu": "A ales o ofertă concurentă mai ieftină"}
JUNK_LEADS = ("spam",)
LEAD_CLIENTS = {"carpathia": "carpathia", "nordic": "nordic"}  # leads converted to customers


OPPORTUNITIES = (  # lead, opportunity status, probability %, value, expected close (days)
    ("carpathia", "Won", 100, "68000", -36),
    ("nordic", "Won", 100, "95000", -33),
    ("banat", "Negotiation", 70, "90000", 20),
    ("dunarea", "Needs analysis", 40, "36000", 35),
    ("moldova", "Qualification", 20, "58000", 60),
    ("petrescu", "Lost", 0, "52000", -10),
)


def _leads(d: Demo) -> None:
    """Leads: captured in every source, moved through both pipelines, lost and junk"""
    for (key, name, company, email, phone, city, county, pipeline, status, source, assigned, value,
         days) in LEADS:
        d.leads[key] = lead = Lead(
            name=name, company=company, email=email, phonenumber=phone, city=city, state=county,
            country=COUNTRY if city else None, pipeline=d.pipelines[pipeline].id,
            status=d.lead_statuses[(pipeline, LEAD_STATUSES[0][0])].id, source=d.sources[source].id,
            assigned=d.staff_id(assigned), addedfrom=d.staff_id("SDR"), dateadded=d.at(-days, 9),
            dateassigned=d.day(-days), lead_value=Decimal(value) if value else None,
            hash=secrets.token_hex(16), website=email.split("@")[1])
        db.session.add(lead)
    db.session.flush()
    for (key, *_, pipeline, status, _source, assigned, _value, days) in LEADS:
        if status != LEAD_STATUSES[0][0]:
            lead, when = d.leads[key], d.at(-days // 2, 15)
            d.act(lead, "change_status", assigned, when, status=d.lead_statuses[(pipeline, status)].id)
            _dated(lead, lastcontact=when, last_status_change=when)
    for key, reason in LOST_LEADS.items():
        d.act(d.leads[key], "mark_lost", _role_of(d, d.leads[key].assigned), d.at(-5), reason=reason)
    for key in JUNK_LEADS:
        d.act(d.leads[key], "mark_junk", "SDR", d.at(-6))


def _role_of(d: Demo, staff_id: int) -> str:
    return next(role for role, member in d.staff.items() if member.staffid == staff_id)


def _opportunities(d: Demo) -> None:
    """Opportunities: leads converted, in every opportunity status; the won ones made customers"""
    for key, status, probability, value, close in OPPORTUNITIES:
        lead = d.leads[key]
        role, when = _role_of(d, lead.assigned), lead.dateadded + timedelta(days=7)
        d.act(lead, "convert_to_opportunity", role, when)
        opportunity = db.session.query(Lead).filter_by(converted_from_lead=lead.id).one()
        _dated(lead, date_converted=when)
        _dated(opportunity, dateadded=when)
        # What the salesperson then sets on the opportunity's form.
        opportunity.opportunity_status = d.opportunity_statuses[status].id
        opportunity.probability, opportunity.lead_value = Decimal(probability), Decimal(value)
        opportunity.estimated_close_date = d.day(close)
        d.opportunities[key] = opportunity
        if key in LEAD_CLIENTS:
            won = lead.dateadded + timedelta(days=40)
            d.act(opportunity, "convert_to_customer", role, won)
            client = d.clients[LEAD_CLIENTS[key]] = db.session.get(Client, opportunity.client_id)
            _dated(opportunity, date_converted=won)
            _dated(client, datecreated=won)


# --- sales documents ---------------------------------------------------------------------------

def _catalog_lines(d: Demo, lines, currency: Currency) -> list[ItemLine]:
    """Document lines for catalog items, priced in the document's currency, with the item's tax."""
    out = []
    for order, (code, qty) in enumerate(lines, 1):
        item, tax = d.items[code], d.items[code].tax_rel
        out.append(ItemLine(description=item.commodity_name, qty=Decimal(qty), unit=item.unit, item_id=item.id,
                            rate=money(item.rate / currency.exchange_rate), item_order=order,
                            taxes=[ItemTax(taxname=tax.name, taxrate=tax.taxrate)]))
    return out


def _typed(d: Demo, model, spec: dict, **fields):
    """A draft proposal, sales order or invoice as ``spec['staff']`` types it on day ``spec['days']``."""
    currency = d.currencies[spec.get("currency", "RON")]
    doc = model(currency_rel=currency, status=model.__table__.c.status.info["enum"].DRAFT.value,
                date=d.day(spec["days"]), items=_catalog_lines(d, spec["lines"], currency), **fields)
    d.docs[spec["key"]] = _entered(d, doc, spec["staff"], d.at(spec["days"]))
    return doc


def _walk(d: Demo, doc, path, role: str, days: int) -> None:
    """Run the actions of ``path`` on ``doc`` one after the other, a day apart from ``days`` on."""
    for n, name in enumerate(path):
        if name == "viewed":
            _client_opens(d, doc, d.at(days + n, 16))
        else:
            d.act(doc, name, role, d.at(days + n, 11))


def _client_opens(d: Demo, proposal: Proposal, when: datetime) -> None:
    """The client opens the proposal's portal link (the portal's own action: Sent → Reviewed)."""
    with d.stamped(when):
        client_viewed(proposal, "86.124.10.15")


# How each proposal status is reached from Draft.
PROPOSAL_PATHS = {6: (), 4: ("send",), 7: ("mark_sent",), 1: ("mark_sent", "viewed"), 3: ("mark_sent", "accept"),
                  2: ("mark_sent", "decline"), 5: ("mark_sent", "mark_revised")}


PROPOSALS = (  # in date order (numbering); to: ("client" | "lead", key)
    dict(key="p_litoral", to=("client", "litoral"), status=2, days=-48, valid=30, staff="Sales Agent",
         subject="Cafea și consumabile pentru restaurantele hotelului",
         lines=(("CAF-1KG", 30), ("PAP-A4", 20), ("DEZ-5L", 10))),
    dict(key="p_carpathia", to=("client", "carpathia"), opportunity="carpathia", status=3, days=-42, valid=30,
         staff="Sales Agent", subject="Echipare depozit Berceni: laptopuri, monitoare, tonere",
         lines=(("LAP-5440", 3), ("MON-P2425", 3), ("TON-59A", 10), ("SRV-INST", 6))),
    dict(key="p_nordic", to=("client", "nordic"), opportunity="nordic", status=3, days=-33, valid=30,
         currency="EUR", staff="Sales Manager", subject="Mentenanță IT și instruire utilizatori, 12 luni",
         lines=(("SRV-MNT", 12), ("SRV-TRN", 2), ("SRV-INST", 8))),
    dict(key="p_brasov", to=("client", "brasov"), status=5, days=-25, valid=30, staff="Sales Agent",
         subject="Monitoare și cablare rețea pentru showroom",
         lines=(("MON-P2425", 6), ("CAB-C6", 2), ("SRV-INST", 10))),
    dict(key="p_toma", to=("lead", "toma"), status=1, days=-20, valid=30, staff="Sales Agent",
         subject="Laptopuri și etichete pentru magazinele Toma Retail",
         lines=(("LAP-5440", 2), ("ETK-100", 40), ("KIT-ONB", 2))),
    dict(key="p_banat", to=("client", "banat"), opportunity="banat", status=7, days=-15, valid=30,
         currency="EUR", staff="Sales Manager", subject="Consumabile birou pentru fabrica din Timișoara",
         lines=(("KIT-ONB", 20), ("PAP-A4", 100), ("ETK-100", 50))),
    dict(key="p_dunarea", to=("client", "dunarea"), opportunity="dunarea", status=4, days=-10, valid=30,
         staff="Sales Agent", subject="Laptopuri pentru agronomi și instalare",
         lines=(("LAP-5440", 5), ("KIT-ONB", 5), ("SRV-INST", 5))),
    dict(key="p_moldova", to=("client", "moldova"), opportunity="moldova", status=6, days=-2, valid=30,
         staff="Sales Agent", subject="Echipamente pentru echipa de vânzări",
         lines=(("LAP-5440", 8), ("MON-P2425", 8), ("SRV-INST", 12), ("SRV-TRN", 1))),
)


def _recipient(d: Demo, kind: str, key: str) -> dict:
    """Who a proposal goes to: a customer (its primary contact) or a lead."""
    if kind == "client":
        client = d.clients[key]
        contact = _primary_contact(client)
        return dict(rel_type="customer", rel_id=client.userid, proposal_to=client.company, email=contact.email,
                    phone=contact.phonenumber, address=client.billing_street, city=client.billing_city,
                    state=client.billing_state, zip=client.billing_zip, country=client.billing_country)
    lead = d.leads[key]
    return dict(rel_type="lead", rel_id=lead.id, proposal_to=lead.company, email=lead.email, phone=lead.phonenumber,
                city=lead.city, state=lead.state, country=lead.country)


def _proposals(d: Demo) -> None:
    """Proposals: draft, sent, reviewed, sent manually, accepted, declined, revised"""
    for spec in PROPOSALS:
        opportunity = d.opportunities.get(spec.get("opportunity"))
        proposal = _typed(
            d, Proposal, spec, subject=spec["subject"], assigned=d.staff_id(spec["staff"]),
            open_till=d.day(spec["days"] + spec["valid"]), opportunity_id=opportunity.id if opportunity else None,
            content="Prețurile includ livrarea în localitatea de reședință. Garanție 36 de luni pentru echipamente.",
            **_recipient(d, *spec["to"]))
        _walk(d, proposal, PROPOSAL_PATHS[spec["status"]], spec["staff"], spec["days"])


ESTIMATES = (  # sales orders, in date order
    dict(key="e_brasov", client="brasov", status=5, days=-75, valid=30, staff="Sales Agent",
         reference_no="BAP-2026-311", lines=(("TON-59A", 6), ("PAP-A4", 40))),
    dict(key="e_carpathia", client="carpathia", status=4, days=-36, valid=30, staff="Sales Agent",
         reference_no="PO-CARP-2026-118", **{"from": "p_carpathia"}),
    dict(key="e_litoral", client="litoral", status=3, days=-30, valid=15, staff="Sales Agent",
         reference_no=None, lines=(("CAF-1KG", 20), ("DEZ-5L", 6))),
    dict(key="e_dunarea", client="dunarea", status=2, days=-9, valid=30, staff="Sales Agent",
         reference_no="DA-112", lines=(("ETK-100", 30), ("PAP-A4", 60))),
    dict(key="e_transilvania", client="transilvania", status=4, days=-6, valid=30, staff="Sales Manager",
         reference_no="TR-ACH-5520", lines=(("MON-P2425", 12), ("LAP-5440", 4), ("KIT-ONB", 4), ("SRV-INST", 8))),
    dict(key="e_moldova", client="moldova", status=1, days=-1, valid=30, staff="Sales Agent",
         reference_no=None, lines=(("DEZ-5L", 10), ("CAF-1KG", 5))),
)


# How each sales order status is reached from Draft (Expired: sent, then the daily sweep).
ESTIMATE_PATHS = {1: (), 2: ("send",), 3: ("send", "decline"), 4: ("send", "accept"), 5: ("send",)}


def _estimates(d: Demo) -> None:
    """Sales orders: draft, sent, declined, accepted/invoiced, expired"""

    for spec in ESTIMATES:
        days, role = spec["days"], spec["staff"]
        if "from" in spec:  # the accepted proposal becomes the sales order
            proposal = d.docs[spec["from"]]
            d.act(proposal, "convert_to_estimate", role, d.at(days))
            estimate = d.docs[spec["key"]] = proposal.estimate
            _dated(proposal, date_converted=d.at(days))
            _dated(estimate, date=d.day(days), datecreated=d.at(days), reference_no=spec["reference_no"],
                   expirydate=d.day(days + spec["valid"]))
            continue
        estimate = _typed(d, Estimate, spec, clientid=d.clients[spec["client"]].userid,
                          sale_agent=d.staff_id(role), expirydate=d.day(days + spec["valid"]),
                          reference_no=spec["reference_no"],
                          terms="Livrare în 5 zile lucrătoare de la confirmarea comenzii.")
        _walk(d, estimate, ESTIMATE_PATHS[spec["status"]], role, days)
        if estimate.datesend:
            _dated(estimate, datesend=d.at(days, 11))
    with d.stamped(datetime.combine(d.today, time.min)):
        expire_sent(d.today)  # the daily job, at midnight


INVOICES = (  # in date order; status before payments (crm.sales.actions.invoices recomputes it after them)
    dict(key="i_banat", client="banat", status=4, days=-50, due=30, currency="EUR", staff="Sales Manager",
         lines=(("SRV-MNT", 3), ("SRV-INST", 6))),
    dict(key="i_litoral", client="litoral", status=5, days=-35, due=30, staff="Sales Agent",
         lines=(("SRV-INST", 4), ("SRV-TRN", 1)), adminnote="Anulată: emisă din greșeală pe alt punct de lucru."),
    dict(key="i_nordic", client="nordic", status=1, days=-30, due=45, staff="Sales Manager", **{"from": "p_nordic"}),
    dict(key="i_carpathia", client="carpathia", status=1, days=-12, due=30, staff="Sales Agent",
         **{"from": "e_carpathia"}),
    dict(key="i_transilvania", client="transilvania", status=1, days=-4, due=30, staff="Sales Manager",
         **{"from": "e_transilvania"}),
    dict(key="i_moldova", client="moldova", status=6, days=-1, due=30, staff="Sales Agent",
         lines=(("SRV-MNT", 3), ("SRV-INST", 2))),
)


# How each invoice status is reached from Draft, by Finance (Overdue: issued past its due date; paid
# ones: _payments).
INVOICE_PATHS = {6: (), 1: ("issue",), 4: ("issue",), 5: ("issue", "mark_cancelled")}


def _invoices(d: Demo) -> None:
    """Invoices: draft, unpaid, overdue, cancelled, in RON and EUR, three converted from proposals and sales orders"""
    for spec in INVOICES:
        days, role = spec["days"], spec["staff"]
        due = d.day(days + spec["due"])
        if "from" in spec:
            source = d.docs[spec["from"]]
            d.act(source, "convert_to_invoice", role, d.at(days))
            invoice = d.docs[spec["key"]] = source.invoice
            _dated(source, **{"date_converted" if isinstance(source, Proposal) else "invoiced_date": d.at(days)})
            _dated(invoice, date=d.day(days), datecreated=d.at(days), duedate=due,
                   exchange_rate=invoice.currency_rel.exchange_rate)
        else:
            invoice = _typed(d, Invoice, spec, clientid=d.clients[spec["client"]].userid, duedate=due,
                             sale_agent=d.staff_id(role), adminnote=spec.get("adminnote"),
                             terms="Plata prin ordin de plată în termenul scadent. Vă mulțumim!",
                             allowed_payment_modes=json.dumps([d.payment_modes[name].id
                                                               for name in ("Bank transfer", "Card")]))
            invoice.exchange_rate = invoice.currency_rel.exchange_rate  # the day's rate, typed with it
            _walk(d, invoice, INVOICE_PATHS[spec["status"]], "Finance", days)


PAYMENTS = (  # invoice, share of the total, payment mode, day, bank reference
    ("i_carpathia", "1", "Bank transfer", -5, "OP 4587 / BTRL"),
    ("i_nordic", "0.5", "Bank transfer", -10, "SEPA NSS-2026-118"),
)


def _payments(d: Demo) -> None:
    """Payments: one invoice paid in full, one partially"""
    for key, share, mode, days, reference in PAYMENTS:
        invoice = d.docs[key]
        d.act(invoice, "record_payment", "Finance", d.at(days, 14), amount=money(invoice.total * Decimal(share)),
              paymentmode=d.payment_modes[mode].id, date=d.day(days), transactionid=reference,
              note=f"Încasare {invoice.formatted_number}")


CONTRACTS = (  # client, subject, type, status, start day, length (days), signed, value (None: proposal's)
    ("carpathia", "Furnizare și instalare echipamente IT, depozit Berceni", "Service agreement", "Active",
     -34, 365, True, None, "p_carpathia"),
    ("nordic", "SLA suport IT 8x5, timp de răspuns 4 ore", "SLA", "Active", -30, 365, True, "86000.00", None),
    ("banat", "Acord-cadru furnizare consumabile", "Supply framework", "Draft", 38, 365, False, "120000.00", None),
    ("litoral", "Mentenanță echipamente IT hotel", "SLA", "Expired", -375, 365, True, "18000.00", None),
    ("brasov", "Service imprimante și consumabile", "Service agreement", "Terminated", -200, 365, True,
     "9600.00", None),
)


def _contracts(d: Demo) -> None:
    """Contracts: one from an accepted proposal, in every status, the signed ones signed on paper"""
    for client_key, subject, kind, status, start, length, signed, value, proposal_key in CONTRACTS:
        client = d.clients[client_key]
        added = d.at(min(start, 0) - 3)
        fields = dict(subject=subject, contract_type=d.contract_types[kind].id, status=d.contract_statuses[status].id,
                      datestart=d.day(start), dateend=d.day(start + length), dateadded=added,
                      description=f"Contract {kind.lower()} cu {client.company}.")
        if proposal_key:
            proposal = d.docs[proposal_key]
            d.act(proposal, "create_contract", "Sales Manager", added)
            contract = db.session.query(Contract).filter_by(proposal_id=proposal.id).one()
            _dated(contract, contract_value=proposal.subtotal, **fields)
        else:
            contract = Contract(client=client.userid, addedfrom=d.staff_id("Sales Manager"),
                                contract_value=Decimal(value), **fields)
            db.session.add(contract)
        db.session.flush()
        if signed:
            contact = _primary_contact(client)
            d.act(contract, "mark_signed", "Sales Manager", d.at(start, 12), signed_on=d.day(start),
                  signer=f"{contact.firstname} {contact.lastname}", signer_email=contact.email)


GOALS = (  # subject, type, target, staff role (None: company-wide), period, contract type
    ("Încasări trimestrul curent", GoalType.TOTAL_INCOME, "150000", None, "quarter", None),
    ("Clienți noi în {year}", GoalType.ALL_NEW_CUSTOMERS, "24", None, "year", None),
    ("Contracte SLA începute în {year}", GoalType.CONTRACTS_BY_TYPE_DATESTART, "6", None, "year", "SLA"),
    ("Lead-uri convertite, trimestrul curent", GoalType.CONVERTED_LEADS, "12", "Sales Agent", "quarter", None),
    ("Valoare facturată, trimestrul curent", GoalType.INVOICED_AMOUNT, "250000", "Sales Manager", "quarter", None),
)


def _goals(d: Demo) -> None:
    """Goals: company-wide and per staff member"""
    quarter_start = date(d.today.year, 3 * ((d.today.month - 1) // 3) + 1, 1)
    quarter_end = (quarter_start + timedelta(days=92)).replace(day=1) - timedelta(days=1)
    periods = {"quarter": (quarter_start, quarter_end),
               "year": (date(d.today.year, 1, 1), date(d.today.year, 12, 31))}
    for subject, goal_type, target, role, period, contract_type in GOALS:
        start, end = periods[period]
        db.session.add(Goal(subject=subject.format(year=d.today.year), goal_type=goal_type.value,
                            achievement=Decimal(target), start_date=start, end_date=end,
                            staff_id=d.staff_id(role) or 0,
                            contract_type=d.contract_types[contract_type].id if contract_type else None))


def _goals(d: Demo) -> None:
    """Goals: company-wide and per staff member"""
    quarter_start = date(d.today.year, 3 * ((d.today.month - 1) // 3) + 1, 1)
    quarter_end = (quarter_start + timedelta(days=92)).replace(day=1) - timedelta(days=1)
    periods = {"quarter": (quarter_start, quarter_end),
               "year": (date(d.today.year, 1, 1), date(d.today.year, 12, 31))}
    for subject, goal_type, target, role, period, contract_type in GOALS:
        start, end = periods[period]
        db.session.add(Goal(subject=subject.format(year=d.today.year), goal_type=goal_type.value,
                            achievement=Decimal(target), start_date=start, end_date=end,
                            staff_id=d.staff_id(role) or 0,
                            contract_type=d.contract_types[contract_type].id if contract_type else None))


# --- purchasing ---------------------------------------------------------------------------------

REPLENISHMENT = dict(  # a purchase order for a sales order's shortage, delivered and received
    key="po_toner", vendor="tech", warehouse="WH-BUC", estimate="e_carpathia", days=-25, received=-15,
    invoice_no="TD-26-004518",
    lines=(("TON-59A", 10, "409.00", -40, 700), ("CAB-C6", 2, "515.00", -60, None)))  # item, qty, price, made, expires


def _draft_receipt(order: PurchaseOrder) -> GoodsReceipt | None:
    return db.session.query(GoodsReceipt).filter_by(pr_order_id=order.id, approval=0).first()


def _replenishment(d: Demo) -> None:
    """Purchasing: a purchase order approved, delivered and received in stock"""
    spec = REPLENISHMENT
    vendor, estimate, days = d.vendors[spec["vendor"]], d.docs[spec["estimate"]], spec["days"]
    order = PurchaseOrder(
        pur_order_name=f"Tonere HP 59A pentru {estimate.formatted_number} și stoc cablu", vendor=vendor.userid,
        order_date=d.day(days), delivery_date=d.day(spec["received"]), status=1, datecreated=d.at(days),
        buyer=d.staff_id("Purchasing"), addedfrom=d.staff_id("Purchasing"), sale_estimate=estimate.id,
        currency=d.currencies["RON"].id, terms="Livrare la depozitul București, plata la 30 de zile.",
        items=_lines(PurchaseOrderDetail, d, [(code, qty, price) for code, qty, price, _, _ in spec["lines"]]))
    refresh_totals(order)
    db.session.add(order)
    db.session.flush()
    d.act(order, "approve", "Purchasing", d.at(days))
    d.docs[spec["key"]] = order
    received = spec["received"]
    if _draft_receipt(order) is None:  # (made on approval when auto_create_goods_received is on)
        d.act(order, "create_goods_receipt", "Warehouse", d.at(received, 8),
              warehouse_id=d.warehouses[spec["warehouse"]].warehouse_id)
    d.docs["nk_" + spec["key"]] = _put_away(d, _draft_receipt(order), received, spec["invoice_no"],
                                            [(made, expires) for *_, made, expires in spec["lines"]])


VENDOR_INVOICES = (  # vendor, source document, vendor's number, day, due after, share paid, payment day
    ("tech", "po_toner", "TD-26-004518", -15, 30, "0.4", -5),
    ("office", "nk_office_recent", "ODS-0091273", -20, 30, "0", None),
)


def _vendor_invoices(d: Demo) -> None:
    """Purchasing: vendor invoices, one from a purchase order partially paid, one typed in unpaid"""

    for vendor_key, source_key, vendor_number, days, due, share, paid_on in VENDOR_INVOICES:
        source = d.docs[source_key]
        if isinstance(source, PurchaseOrder):
            bill = d.act(source, "create_vendor_invoice", "Purchasing", d.at(days))
        else:  # a receipt without an order: the bill is typed from the receipt's lines
            codes = {item.id: code for code, item in d.items.items()}
            bill = VendorInvoice(vendor=d.vendors[vendor_key].userid, currency=d.currencies["RON"].id,
                                 payment_status="unpaid", items=_lines(VendorInvoiceDetail, d, [
                                     (codes[line.commodity_code], line.quantities, line.unit_price)
                                     for line in source.items]))
            refresh_totals(bill)
            db.session.add(bill)
            db.session.flush()
            assign_number(bill)
        _dated(bill, vendor_invoice_number=vendor_number, invoice_date=d.day(days), duedate=d.day(days + due),
               addedfrom=d.staff_id("Finance"), date_add=d.at(days))
        db.session.commit()
        paid = money(bill.total * Decimal(share))
        if paid:
            d.act(bill, "record_payment", "Finance", d.at(paid_on, 14), amount=paid, date=d.day(paid_on),
                  paymentmode=d.payment_modes["Bank transfer"].id, transactionid=f"OP {vendor_number}")


# --- deliveries and the backorder ---------------------------------------------------------------

DELIVERIES = (  # invoice, warehouse, day, approve, packing list (width, height, length cm, weight kg) or None
    ("dn_carpathia", "i_carpathia", "WH-BUC", -8, True, (60, 45, 80, "18.5")),
    ("dn_transilvania", "i_transilvania", "WH-CLJ", -3, False, None),
)


def _deliveries(d: Demo) -> None:
    """Warehouse: a delivery note approved (FIFO) with its packing list, one blocked by short stock"""
    for key, invoice_key, warehouse, days, approve, parcel in DELIVERIES:
        invoice = d.docs[invoice_key]
        d.act(invoice, "create_delivery_note", _role_of(d, invoice.sale_agent), d.at(days, 9),
              warehouse_id=d.warehouses[warehouse].warehouse_id)
        note = d.docs[key] = db.session.query(GoodsDelivery).filter_by(invoice_id=invoice.id).one()
        _dated(note, date_c=d.day(days), date_add=d.day(days), staff_id=d.staff_id("Warehouse"))
        if approve:
            d.act(note, "approve", "Warehouse", d.at(days, 11))
        if parcel:
            width, height, length, weight = parcel
            d.act(note, "create_packing_list", "Warehouse", d.at(days, 15), width=width, height=height,
                  lenght=length, weight=weight)
            packing = d.docs["pl_" + note.goods_delivery_code] = \
                db.session.query(PackingList).filter_by(delivery_note_id=note.id).one()
            _dated(packing, datecreated=d.at(days, 15))
            d.act(packing, "approve", "Warehouse", d.at(days, 16))


BACKORDER = dict(  # the short delivery note, and the purchasing that answers it
    note="dn_transilvania", days=-3, po_days=-1, delivery_in=5,
    quotes=(("tech", "698.00", True), ("euroit", "735.00", False)))  # vendor, unit price, accepted


def _backorder(d: Demo) -> None:
    """Purchasing: the backorder RFQ of the short delivery, two vendor quotations, an approved purchase order"""
    spec = BACKORDER
    note, days = d.docs[spec["note"]], spec["days"]
    d.act(note, "create_backorder_rfq", "Warehouse", d.at(days, 12))
    request = d.docs["rfq_backorder"] = db.session.query(PurchaseRequest).filter_by(goods_delivery_id=note.id).one()
    _dated(request, request_date=d.at(days, 12))
    d.act(request, "approve", "Purchasing", d.at(days, 13))
    vendors = [d.vendors[key] for key, _, _ in spec["quotes"]]
    d.act(request, "request_quotations", "Purchasing", d.at(days, 13), vendors=",".join(str(v.userid) for v in vendors))
    accepted = None
    for vendor, (_, price, won) in zip(vendors, spec["quotes"]):
        quote = db.session.query(PurchaseQuotation).filter_by(pur_request=request.id, vendor=vendor.userid).one()
        for line in quote.items:  # the prices the vendor quoted, typed in by purchasing
            line.unit_price = Decimal(price)
        refresh_totals(quote)
        _dated(quote, date=d.day(days + 1), expirydate=d.day(days + 15), datecreated=d.at(days, 13),
               delivery_date=d.day(spec["po_days"] + spec["delivery_in"]),
               vendornote=f"Ofertă valabilă 14 zile, livrare în {spec['delivery_in']} zile lucrătoare.")
        accepted = quote if won else accepted
    db.session.commit()
    d.act(accepted, "accept", "Purchasing", d.at(spec["po_days"], 10))
    order = d.act(accepted, "create_purchase_order", "Purchasing", d.at(spec["po_days"], 11))
    _dated(order, order_date=d.day(spec["po_days"]), datecreated=d.at(spec["po_days"], 11),
           terms=f"Livrare la {note.warehouse.warehouse_name}.")
    d.act(order, "approve", "Purchasing", d.at(spec["po_days"], 12))
    d.docs["po_backorder"] = order


# --- stock corrections and returns ---------------------------------------------------------------

LOSSES = (  # warehouse, item, change (counted − book), day, reason
    ("WH-BUC", "DEZ-5L", -2, -6, "Două bidoane fisurate la manipulare; produsul s-a scurs."),
)
STOCK_TAKE = dict(warehouse="WH-CLJ", days=-1, differences={"PAP-A4": -2}, not_counted=("KIT-ONB",))


def _first_lot(warehouse: Warehouse, item: Item) -> InventoryBalance:
    return db.session.query(InventoryBalance).filter(
        InventoryBalance.warehouse_id == warehouse.warehouse_id, InventoryBalance.commodity_id == item.id,
        InventoryBalance.inventory_number > 0).order_by(InventoryBalance.id).first()


def _stock_corrections(d: Demo) -> None:
    """Warehouse: an approved loss and a stock take still being counted"""
    for warehouse_code, code, change, days, reason in LOSSES:
        warehouse, item = d.warehouses[warehouse_code], d.items[code]
        lot = _first_lot(warehouse, item)
        loss = LossAdjustment(type="loss" if change < 0 else "adjustment", addfrom=d.staff_id("Warehouse"),
                              reason=reason, time=d.at(days, 16), date_create=d.day(days), status=0,
                              warehouses=warehouse.warehouse_id)
        loss.items.append(LossAdjustmentDetail(
            items=item.id, unit=item.unit_id, current_number=lot.inventory_number, inventory_manage_id=lot.id,
            updates_number=lot.inventory_number + change, expiry_date=lot.expiry_date, lot_number=lot.lot_number))
        db.session.add(loss)
        db.session.flush()
        d.act(loss, "approve", "Warehouse", d.at(days, 16))
    spec = STOCK_TAKE
    warehouse = d.warehouses[spec["warehouse"]]
    count = PhysicalInventory(warehouse_id=warehouse.warehouse_id, date=d.day(spec["days"]), status=0,
                              addedfrom=d.staff_id("Warehouse"), datecreated=d.at(spec["days"], 8),
                              note=f"Inventar lunar {warehouse.warehouse_name}, numărătoare în curs.")
    db.session.add(count)
    db.session.flush()
    d.act(count, "fill", "Warehouse", d.at(spec["days"], 8))
    for line in count.items:  # what the counters wrote on the sheet so far
        code = line.commodity.commodity_code
        if code not in spec["not_counted"]:
            line.counted_quantity = line.book_quantity + spec["differences"].get(code, 0)
            line.difference = line.counted_quantity - line.book_quantity


RETURNS = (  # delivery note, item, quantity, day, reason
    ("dn_carpathia", "MON-P2425", 1, -2, "Monitor cu pixeli defecți; în verificare la service înainte de recepție."),
)


def _client_returns(d: Demo) -> None:
    """Warehouse: a client return awaiting inspection"""
    for number, (note_key, code, qty, days, reason) in enumerate(RETURNS, 1):
        note = d.docs[note_key]
        item, qty = d.items[code], Decimal(qty)
        line = next(line for line in note.items if line.commodity_code == item.id)
        net = line_net(qty, line.unit_price)
        gross = net + vat(net, item.tax_rel.taxrate)
        doc = OrderReturn(order_return_number=f"RET-{number:06d}",
                          order_return_name=f"Retur {note.goods_delivery_code}, {note.customer_name}",
                          rel_type="sales_return_order", return_type="partially", company_id=note.customer_code,
                          company_name=note.customer_name, invoice_id=note.invoice_id, delivery_note_id=note.id,
                          warehouse_id=note.warehouse_id, date=d.day(days), approval=0, return_reason=reason,
                          currency=d.currencies["RON"].id, subtotal=net, total_amount=gross,
                          staff_id=d.staff_id("Warehouse"), datecreated=d.at(days, 13))
        doc.items.append(OrderReturnDetail(
            rel_type_detail_id=line.id, commodity_code=item.id, commodity_name=line.commodity_name, quantity=qty,
            unit_id=item.unit_id, unit_price=line.unit_price, purchase_price=item.purchase_price, sub_total=net,
            tax=item.tax, total_amount=gross, total_after_discount=net, lot_number=line.lot_number.split(",")[0],
            expiry_date=line.expiry_date, reason_return=reason))
        db.session.add(doc)


# --- notes and reminders -------------------------------------------------------------------------

NOTES = (  # about ("lead" | "customer", key), staff, day, text
    (("lead", "dunarea"), "Sales Agent", -35, "Apel: vor 5 laptopuri pentru agronomi până în martie, buget aprobat."),
    (("lead", "moldova"), "Sales Agent", -12, "Demo online făcut; interesați și de instruire pentru 12 utilizatori."),
    (("lead", "vila"), "SDR", -1, "A completat formularul Facebook; preferă să fie sunată după ora 14."),
    (("customer", "carpathia"), "Sales Agent", -8, "Livrare confirmată telefonic cu dl. Georgescu, rampa 3."),
    (("customer", "banat"), "Finance", -15, "Factura restantă: au cerut copia facturii pe e-mail, retrimisă."),
)
REMINDERS = (  # about (rel type, key), staff, in days, text
    (("lead", "moldova"), "Sales Agent", 2, "Revenire după demo: trimite oferta finală."),
    (("lead", "vila"), "SDR", 1, "Primul apel de calificare."),
    (("invoice", "i_banat"), "Finance", 1, "Sună la Banat Industrial pentru factura restantă."),
    (("estimate", "e_dunarea"), "Sales Agent", 5, "Verifică dacă au aprobat comanda de consumabile."),
)


def _about(d: Demo, rel_type: str, key: str) -> int:
    registry = {"lead": d.leads, "customer": d.clients}.get(rel_type, d.docs)
    return _rel_id(registry[key])


def _activity(d: Demo) -> None:
    """Activity: notes and reminders"""
    for (rel_type, key), role, days, text in NOTES:
        db.session.add(Note(rel_type=rel_type, rel_id=_about(d, rel_type, key), description=text,
                            addedfrom=d.staff_id(role), dateadded=d.at(days, 17), date_contacted=d.at(days, 16)))
    for (rel_type, key), role, days, text in REMINDERS:
        db.session.add(Reminder(rel_type=rel_type, rel_id=_about(d, rel_type, key), description=text,
                                date=d.at(days, 9), staff=d.staff_id(role), creator=d.staff_id(role),
                                isnotified=False, notify_by_email=True))


def _marketing(d: Demo) -> None:
    """Marketing: a draft newsletter to the leads of the first pipeline, a webinar invitation scheduled"""

    pipeline = next(iter(d.pipelines.values()))
    author = d.staff_id("Sales Manager")
    newsletter = MarketingCampaign(
        name="Newsletter: oferta lunii", subject="{companyname}: oferta lunii pentru {company}",
        body="<p>Bună ziua, {firstname},</p><p>Luna aceasta, echipamentele IT au 10% reducere.</p>",
        audience_leads=True, lead_pipeline=pipeline.id, addedfrom=author)
    webinar = MarketingCampaign(
        name="Invitație webinar", subject="Webinar: digitalizarea depozitului",
        body="<p>Bună ziua, {firstname},</p><p>Vă invităm la webinarul nostru de joi.</p>",
        audience_leads=True, audience_contacts=True, addedfrom=author)
    db.session.add_all([newsletter, webinar])
    db.session.flush()
    d.act(webinar, "schedule", "Sales Manager", d.at(-1, 15), scheduled_at=f"{d.at(7, 9):%Y-%m-%dT%H:%M}")


def _courier(d: Demo) -> None:
    """Courier: Innoship pointed at the stand-in `make run` serves at /sandbox/innoship"""

    # Set after the demo's packing list is approved, so that loading never calls a courier.
    options.set("innoship_api_url", f"{public_base()}/sandbox/innoship")
    options.set("innoship_api_key", DEMO_KEYS["innoship"])
    options.set("innoship_location_id", "WH-BUC")


def public_base() -> str:
    """Where `make run` serves the app (PUBLIC_URL): the stand-ins live under it at /sandbox/<name>."""
    return (os.environ.get("PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/")


# --- online payments and advances (Stripe sandbox at /sandbox/stripe with CRM_SANDBOX=1) ----

STRIPE_DEMO = {"stripe_secret_key": "sk_test_crmconnect_demo", "stripe_publishable_key": "pk_test_crmconnect_demo",
               "stripe_webhook_secret": "whsec_crmconnect_demo"}


def _online_payments(d: Demo) -> None:
    """Online payments: Stripe (sandbox) on unpaid invoices, an advance payment on a client's account"""


    for name, value in STRIPE_DEMO.items():
        options.set(name, value)
    base = public_base()
    options.set("stripe_api_base", f"{base}/sandbox/stripe")
    mode = stripe_mode(create=True)
    for invoice in (doc for doc in d.docs.values() if isinstance(doc, Invoice) and doc.status in (1, 3, 4)):
        allowed = json.loads(invoice.allowed_payment_modes or "[]")
        invoice.allowed_payment_modes = json.dumps(allowed + [mode.id])
    d.act(d.clients["banat"], "record_advance_payment", "Finance", d.at(-3, 14), amount=Decimal("5000.00"),
          paymentmode=d.payment_modes["Bank transfer"].id, currency=d.currencies["RON"].id, date=d.day(-3),
          transactionid="OP 5120 / BCR", note="Avans comandă consumabile")


def _facebook_lead_ads(d: Demo) -> None:
    """Facebook Lead Ads: settings pointing at the stand-in `make run` serves at /sandbox/facebook, the demo's Facebook leads as received"""

    base = public_base()
    for name, value in {"facebook_app_secret": DEMO_KEYS["facebook_app_secret"],
                        "facebook_verify_token": "demo-verify-token",
                        "facebook_page_access_token": DEMO_KEYS["facebook_page_access_token"],
                        "facebook_graph_url": f"{base}/sandbox/facebook",
                        "facebook_lead_assigned": d.staff_id("SDR")}.items():
        options.set(name, value)
    source = d.sources["Facebook Lead Ads"].id
    for n, lead in enumerate(sorted((x for x in d.leads.values() if x.source == source), key=lambda x: x.id), 1):
        db.session.add(FacebookLead(leadgen_id=f"90000000000{n:04d}", page_id=facebook_sandbox.PAGE_ID, form_id=facebook_sandbox.FORM_ID,
                                    ad_id=facebook_sandbox.AD_ID, status="fetched", attempts=1, leadid=lead.id,
                                    created_time=lead.dateadded, received_at=lead.dateadded,
                                    fetched_at=lead.dateadded))


def _efactura(d: Demo) -> None:
    """e-Factura: company identity, the ANAF stand-in `make run` serves at /sandbox/anaf, connected"""

    samples.ensure_company()
    base = public_base()
    for name, value in anaf.demo_urls(base).items():
        options.set(name, value)
    options.set("efactura_client_id", "crmconnect-demo")
    options.set("efactura_client_secret", "demo-secret")
    options.set("efactura_access_token", anaf.make_jwt(datetime.utcnow() + timedelta(days=90)))


STEPS = (_settings, _staff, _catalog, _vendors, _opening_stock, _leads, _opportunities, _clients, _proposals,
         _estimates, _invoices, _payments, _contracts, _goals, _replenishment, _vendor_invoices, _deliveries,
         _backorder, _stock_corrections, _client_returns, _activity, _marketing, _courier, _online_payments,
         _facebook_lead_ads, _efactura)
