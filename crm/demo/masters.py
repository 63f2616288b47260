"""Demo master data: settings, staff, the catalog and vendors."""
from __future__ import annotations

from decimal import Decimal

from crm.catalog.models import Currency, Item, ItemGroup, PaymentMode, Tax, Unit
from crm.core import options
from crm.core.extensions import db
from crm.core.models.settings import Role, Staff
from crm.core.roles import ensure_roles
from crm.purchasing.models import (
    Vendor,
    VendorContact,
)
from crm.sales.models.clients import (
    LeadSource,
    LeadStatus,
    OpportunityStatus,
    Pipeline,
)
from crm.sales.models.documents import (
    ContractStatus,
    ContractType,
)
from crm.warehouse.models import (
    MinimumStock,
    Warehouse,
)
from crm.demo.base import COUNTRY, Demo, PASSWORD, address, address_columns, ensure


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
    ("WH-BUC", "Depozit București", address("Bd. Theodor Pallady nr. 51, Hala 4", "Sector 3", "București", "032258")),
    ("WH-CLJ", "Depozit Cluj", address("Str. Traian Vuia nr. 208", "Cluj-Napoca", "Cluj", "400397")))


def settings(d: Demo) -> None:
    """Settings: pipelines, lead statuses and sources, currencies, taxes, units, warehouses"""
    for order, (name, default) in enumerate(PIPELINES, 1):
        d.pipelines[name] = ensure(Pipeline, {"name": name}, pipeline_order=order, isdefault=default)
    db.session.flush()
    for pipeline in d.pipelines.values():
        for order, (name, color) in enumerate(LEAD_STATUSES, 1):
            d.lead_statuses[(pipeline.name, name)] = ensure(
                LeadStatus, {"name": name, "pipeline": pipeline.id}, statusorder=order, color=color,
                isdefault=pipeline.isdefault and order == 1)
    for name in LEAD_SOURCES:
        d.sources[name] = ensure(LeadSource, {"name": name})
    for order, (name, color, won, lost) in enumerate(OPPORTUNITY_STATUSES, 1):
        d.opportunity_statuses[name] = ensure(OpportunityStatus, {"name": name}, statusorder=order, color=color,
                                               isdefault=order == 1, is_won=won, is_lost=lost)
    for name in CONTRACT_TYPES:
        d.contract_types[name] = ensure(ContractType, {"name": name})
    for order, (name, color) in enumerate(CONTRACT_STATUSES, 1):
        d.contract_statuses[name] = ensure(ContractStatus, {"name": name}, color=color, statusorder=order,
                                            isdefault=order == 1)
    for code, symbol, placement, default, rate in CURRENCIES:
        d.currencies[code] = ensure(Currency, {"name": code}, symbol=symbol, placement=placement,
                                     decimal_separator=",", thousand_separator=".", isdefault=default,
                                     exchange_rate=Decimal(rate))
    for name, rate, category, reason_code, reason in TAXES:
        d.taxes[name] = ensure(Tax, {"name": name}, taxrate=Decimal(rate), vat_category=category,
                                exemption_reason_code=reason_code, exemption_reason=reason)
    for name, description, default, cod in PAYMENT_MODES:
        d.payment_modes[name] = ensure(PaymentMode, {"name": name}, description=description, active=True,
                                        show_on_pdf=True, selected_by_default=default, cash_on_delivery=cod)
    for code, symbol, name in UNITS:
        d.units[symbol] = ensure(Unit, {"unit_code": code}, unit_symbol=symbol, unit_name=name, display=True)
    for name in ITEM_GROUPS:
        d.groups[name] = ensure(ItemGroup, {"name": name})
    for order, (code, name, addr) in enumerate(WAREHOUSES, 1):
        d.warehouses[code] = ensure(Warehouse, {"warehouse_code": code}, warehouse_name=name,
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


def staff(d: Demo) -> None:
    """Staff: one member per role, password demo1234"""
    ensure_roles()
    db.session.flush()
    for role_name, email, first, last, phone in STAFF:
        role = db.session.query(Role).filter_by(name=role_name).one()
        member = ensure(Staff, {"email": email}, firstname=first, lastname=last, phonenumber=phone,
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


def catalog(d: Demo) -> None:
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
     address("Bd. Iuliu Maniu nr. 220", "Sector 6", "București", "061126"), "techdistribution.ro", "30 de zile"),
    ("office", "VND-002", "Office Direct Supplies SRL", "RO22876541", "+40 264 450 900",
     address("Calea Florești nr. 91", "Cluj-Napoca", "Cluj", "400509"), "officedirect.ro", "30 de zile"),
    ("euroit", "VND-003", "Euro IT Supply SRL", "RO31654323", "+40 256 220 415",
     address("Calea Șagului nr. 150", "Timișoara", "Timiș", "300517"), "euroitsupply.ro", "15 zile"),
)


VENDOR_CONTACTS = (  # vendor, first name, last name, title, email, phone
    ("tech", "Cosmin", "Vasilescu", "Key account manager", "cosmin.vasilescu@techdistribution.ro", "+40 744 512 330"),
    ("tech", "Raluca", "Enache", "Contabilitate", "facturare@techdistribution.ro", "+40 21 410 2210"),
    ("office", "Sergiu", "Pop", "Agent vânzări", "sergiu.pop@officedirect.ro", "+40 745 118 902"),
    ("euroit", "Alina", "Bălan", "Vânzări B2B", "alina.balan@euroitsupply.ro", "+40 723 440 117"),
)


def vendors(d: Demo) -> None:
    """Vendors: suppliers and their contacts"""
    for key, code, company, vat, phone, addr, website, terms in VENDORS:
        vendor = Vendor(vendor_code=code, company=company, vat=vat, phonenumber=phone, website=website,
                        payment_terms=terms, default_currency=d.currencies["RON"].id,
                        addedfrom=d.staff_id("Purchasing"), datecreated=d.at(-400), active=True,
                        **address_columns(addr))
        db.session.add(vendor)
        d.vendors[key] = vendor
    for key, first, last, title, email, phone in VENDOR_CONTACTS:
        d.vendors[key].contacts.append(VendorContact(firstname=first, lastname=last, title=title, email=email,
                                                     phonenumber=phone, is_primary=not d.vendors[key].contacts))
