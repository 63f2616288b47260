"""Catalog: items (warehouse commodities), item groups, units, taxes, currencies, payment modes, and the
company's bank accounts."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.extensions import db
from crm.core.labels import tax_label
from crm.core.models.base import RATE, UNIT_PRICE, Resource, fk

__all__ = ["ItemGroup", "Unit", "Tax", "VAT_CATEGORIES", "Currency", "PaymentMode", "Item", "CompanyBankAccount"]


class ItemGroup(db.Model):
    __tablename__ = "tblitems_groups"
    __crm__ = Resource(module="settings", label="Item groups", category="Settings", url="settings/item_groups")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))

    def __str__(self):
        return self.name


class Unit(db.Model):
    """tblware_unit_type: units of measure (Warehouse module), linked from items by ``unit_id``."""

    __tablename__ = "tblware_unit_type"
    __crm__ = Resource(module="settings", label="Units", category="Settings", url="settings/units")

    unit_type_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_code: Mapped[str | None] = mapped_column(String(100), index=True)
    unit_name: Mapped[str] = mapped_column(String(100))
    unit_symbol: Mapped[str | None] = mapped_column(String(100))
    display: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self):
        return self.unit_name


# UNTDID 5305 VAT category codes accepted by e-Factura (CIUS-RO): standard, zero, exempt,
# reverse charge, intra-EU, export, not subject to VAT.
VAT_CATEGORIES = ("S", "Z", "E", "AE", "K", "G", "O")


class Tax(db.Model):
    __tablename__ = "tbltaxes"
    __crm__ = Resource(module="settings", label="Taxes", category="Settings", url="settings/taxes")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    taxrate: Mapped[Decimal] = mapped_column(RATE, default=Decimal("0"))
    # Romanian e-Factura: the line's ClassifiedTaxCategory, and why a non-S line is not taxed.
    vat_category: Mapped[str] = mapped_column(String(2), default="S", server_default="S")
    exemption_reason_code: Mapped[str | None] = mapped_column(String(30))  # e.g. VATEX-EU-79-C
    exemption_reason: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (
        CheckConstraint("vat_category IN ('S', 'Z', 'E', 'AE', 'K', 'G', 'O')", name="vat_category"),
    )

    def __str__(self):
        return tax_label(self.name, self.taxrate)


class Currency(db.Model):
    __tablename__ = "tblcurrencies"
    __crm__ = Resource(module="settings", label="Currencies", category="Settings", url="settings/currencies")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    symbol: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(10), unique=True)  # ISO 4217 code: RON, EUR
    decimal_separator: Mapped[str] = mapped_column(String(5), default=",")
    thousand_separator: Mapped[str] = mapped_column(String(5), default=".")
    placement: Mapped[str] = mapped_column(String(10), default="after")  # 'before' | 'after'
    isdefault: Mapped[bool] = mapped_column(Boolean, default=False)
    # Units of the base (default) currency per unit of this one; the base currency has 1.
    exchange_rate: Mapped[Decimal] = mapped_column(Numeric(15, 6, asdecimal=True), default=Decimal("1"))

    def __str__(self):
        return self.name


from crm.core.models.company import CompanyBankAccount  # noqa: E402,F401  (declared here: same table order)


class PaymentMode(db.Model):
    __tablename__ = "tblpayment_modes"
    __crm__ = Resource(module="settings", label="Payment modes", category="Settings", url="settings/payment_modes")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    show_on_pdf: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    selected_by_default: Mapped[bool] = mapped_column(Boolean, default=True)
    invoices_only: Mapped[bool] = mapped_column(Boolean, default=False)
    expenses_only: Mapped[bool] = mapped_column(Boolean, default=False)
    cash_on_delivery: Mapped[bool] = mapped_column(Boolean, default=False)  # seed addition (ramburs)

    def __str__(self):
        return self.name


class Item(db.Model):
    """tblitems: the products and services sold; the Warehouse module calls them commodities."""

    __tablename__ = "tblitems"
    __crm__ = Resource(module="items",
        label="Commodities", category="Warehouse", url="warehouse/commodity_list", name="items",
        admin={"column_list": ["commodity_code", "commodity_name", "description", "sku_code", "unit",
                               "rate", "purchase_price", "tax", "group_id", "active"],
               "column_searchable_list": ["commodity_code", "commodity_barcode", "commodity_name",
                                          "description", "sku_code"]},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    description: Mapped[str] = mapped_column(String(255))
    long_description: Mapped[str | None] = mapped_column(Text)
    rate: Mapped[Decimal] = mapped_column(UNIT_PRICE, default=Decimal("0"))  # sale price, without tax
    tax: Mapped[int | None] = fk("tbltaxes.id", ondelete="RESTRICT")
    tax2: Mapped[int | None] = fk("tbltaxes.id", ondelete="RESTRICT")
    unit: Mapped[str | None] = mapped_column(String(40))  # unit name as text (Perfex)
    group_id: Mapped[int | None] = fk("tblitems_groups.id")
    # Warehouse module additions.
    commodity_code: Mapped[str | None] = mapped_column(String(100), index=True)
    commodity_barcode: Mapped[str | None] = mapped_column(String(100), index=True)
    commodity_name: Mapped[str | None] = mapped_column(String(255))
    sku_code: Mapped[str | None] = mapped_column(String(100), index=True)
    purchase_price: Mapped[Decimal | None] = mapped_column(UNIT_PRICE)
    unit_id: Mapped[int | None] = fk("tblware_unit_type.unit_type_id")
    without_checking_warehouse: Mapped[bool] = mapped_column(Boolean, default=False)  # not stock-tracked
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    # Replenishment RFQs are grouped by this vendor (crm/purchasing/actions/replenishment.py).
    preferred_vendor: Mapped[int | None] = fk("tblpur_vendor.userid")

    tax_rel = relationship(Tax, foreign_keys=[tax])
    tax2_rel = relationship(Tax, foreign_keys=[tax2])
    group = relationship(ItemGroup)
    unit_type = relationship(Unit)
    preferred_vendor_rel = relationship("Vendor")

    def __str__(self):
        name = self.commodity_name or self.description
        return f"{self.commodity_code} {name}" if self.commodity_code else name
