"""Warehouse: warehouses, stock balances and their ledger, receipts, deliveries, packing lists,
losses and adjustments, physical inventory, client returns and courier shipments (AWB).

Mirrors the Perfex Warehouse module (tbl-prefixed, documented column names kept, including
``lenght``), with honest types: quantities are Numeric(15,3), money Numeric(15,2), and every
link is a real foreign key. The stock invariant: the balance in ``tblinventory_manage`` equals
the sum of the ledger ``tblgoods_transaction_detail``.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, Index, Integer, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from crm.core.extensions import db
from crm.core.models.base import (
    MONEY,
    QTY,
    RATE,
    UNIT_PRICE,
    BillingShipping,
    FieldError,
    Resource,
    StatusEnum,
    fk,
    status_column,
)

# Parcel dimensions (cm), weight (kg) and volume (m3) on packing lists.
MEASURE = Numeric(15, 3, asdecimal=True)


class Warehouse(db.Model):
    __tablename__ = "tblwarehouse"
    __crm__ = Resource(module="stock",
        label="Warehouses", category="Settings", url="settings/warehouses", name="warehouse")

    warehouse_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    warehouse_code: Mapped[str] = mapped_column(String(100), index=True)
    warehouse_name: Mapped[str] = mapped_column(String(191))
    warehouse_address: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(100))
    zip_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(100))
    order: Mapped[int] = mapped_column(Integer, default=0)
    display: Mapped[int] = mapped_column(Integer, default=1)  # 1 shown, 0 hidden (Perfex flag)
    note: Mapped[str | None] = mapped_column(Text)

    def __str__(self):
        return self.warehouse_name or self.warehouse_code


class InventoryBalance(db.Model):
    """tblinventory_manage: stock per warehouse x item x lot x expiry x purchase price.

    Deliveries drain the rows of a (warehouse, item) in ``id ASC`` order: FIFO by receipt.
    """

    __tablename__ = "tblinventory_manage"
    __crm__ = Resource(module="stock", label="Stock balances", category="Warehouse", url="warehouse/inventory_manage",
                       # the sum of each lot's ledger rows: written only by the stock actions
                       # (crm/warehouse/actions/stock.py), never set by hand
                       readonly=True,
                       # physical lots; what orders hold is per warehouse x item (Stock reservations)
                       admin={"column_list": ["warehouse_id", "commodity_id", "inventory_number", "lot_number",
                                              "expiry_date", "date_manufacture", "purchase_price"],
                              "form_excluded_columns": ["reserved_quantity"]})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    warehouse_id: Mapped[int] = fk("tblwarehouse.warehouse_id", nullable=False, ondelete="RESTRICT")
    commodity_id: Mapped[int] = fk("tblitems.id", nullable=False, ondelete="RESTRICT")
    inventory_number: Mapped[Decimal] = mapped_column(QTY, default=Decimal("0"), nullable=False)
    # Perfex's column, kept at zero: reservations are held per warehouse x item in
    # tblstock_reservations (StockReservation), not on lots (see crm/warehouse/actions/reservations.py).
    reserved_quantity: Mapped[Decimal] = mapped_column(QTY, default=Decimal("0"), nullable=False)
    date_manufacture: Mapped[date | None] = mapped_column(Date)
    expiry_date: Mapped[date | None] = mapped_column(Date, index=True)
    lot_number: Mapped[str | None] = mapped_column(String(100), index=True)
    purchase_price: Mapped[Decimal] = mapped_column(UNIT_PRICE, default=Decimal("0"))

    warehouse = relationship("Warehouse")
    commodity = relationship("Item")

    # The lots a delivery can draw on, in FIFO order, without walking the drained ones (they stay at
    # zero as the lot's record). Partial on PostgreSQL and SQLite; MariaDB has no partial indexes.
    __table_args__ = (Index(None, "warehouse_id", "commodity_id"),
                      Index("ix_tblinventory_manage_in_stock", "warehouse_id", "commodity_id", "id",
                            postgresql_where=text("inventory_number > 0"),
                            sqlite_where=text("inventory_number > 0")))

    def __str__(self):
        lot = f" lot {self.lot_number}" if self.lot_number else ""
        return f"{self.commodity} @ {self.warehouse}{lot}: {self.inventory_number}"


class ReservationStatus(StatusEnum):
    RESERVED = (1, "Reserved", "info")
    DELIVERED = (2, "Delivered", "success")
    RELEASED = (3, "Released", "secondary")
    WAITING = (4, "Waiting for stock", "warning")  # not in stock at acceptance: reserved when it comes in


class StockReservation(db.Model):
    """tblstock_reservations (addition; option ``warehouse_reserve_on_accept``): quantity of an item
    held in a warehouse for an accepted sales order until its delivery note takes it out.

    Held = ``quantity - delivered`` while Reserved; nothing here touches the balances or the ledger.
    Waiting for stock: the part not in stock at acceptance (``quantity`` still wanted; the warehouse
    it is wanted in), turned into Reserved rows as goods receipts bring the item in.
    """

    __tablename__ = "tblstock_reservations"
    __crm__ = Resource(module="stock", label="Stock reservations", category="Warehouse", url="warehouse/reservations",
                       readonly=True,
                       admin={"column_list": ["date_reserved", "estimate", "commodity", "warehouse", "quantity",
                                              "delivered", "status", "date_closed", "note"],
                              "column_searchable_list": ["note"]})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    estimate_id: Mapped[int] = fk("tblestimates.id", nullable=False)
    commodity_id: Mapped[int] = fk("tblitems.id", nullable=False, ondelete="RESTRICT")
    warehouse_id: Mapped[int] = fk("tblwarehouse.warehouse_id", nullable=False, ondelete="RESTRICT")
    quantity: Mapped[Decimal] = mapped_column(QTY, nullable=False)  # reserved at acceptance
    delivered: Mapped[Decimal] = mapped_column(QTY, default=Decimal("0"), nullable=False)
    status: Mapped[int] = status_column(ReservationStatus, default=ReservationStatus.RESERVED.value)
    date_reserved: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, nullable=False)
    date_closed: Mapped[datetime | None] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)  # why it was released

    estimate = relationship("Estimate")
    commodity = relationship("Item")
    warehouse = relationship("Warehouse")

    # What the stock check sums: the held quantity of one (warehouse, item).
    __table_args__ = (Index(None, "warehouse_id", "commodity_id", "status"),)

    def __str__(self):
        return f"{self.commodity} @ {self.warehouse}: {self.quantity - (self.delivered or 0)} for {self.estimate}"


class MinimumStock(db.Model):
    """tblinventory_commodity_min: informational thresholds (nothing is triggered by them)."""

    __tablename__ = "tblinventory_commodity_min"
    __crm__ = Resource(module="stock", label="Minimum stock", category="Warehouse", url="warehouse/inventory_min")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    commodity_id: Mapped[int] = fk("tblitems.id", nullable=False)
    commodity_code: Mapped[str | None] = mapped_column(String(100))
    commodity_name: Mapped[str | None] = mapped_column(String(255))
    inventory_number_min: Mapped[Decimal] = mapped_column(QTY, default=Decimal("0"))  # alert threshold
    inventory_number_max: Mapped[Decimal] = mapped_column(QTY, default=Decimal("0"))  # target at replenishment

    commodity = relationship("Item")

    def __str__(self):
        return f"{self.commodity_name or self.commodity}: min {self.inventory_number_min}"


class WarehouseApproval(StatusEnum):
    """approval on goods receipts, delivery notes, packing lists, returns; physical inventory status."""

    DRAFT = (0, "Draft", "secondary")
    APPROVED = (1, "Approved", "success")
    REJECTED = (-1, "Rejected", "danger")


class GoodsReceipt(db.Model):
    """tblgoods_receipt: the goods receipt note (prefix 'NK'); approval puts the goods in stock."""

    __tablename__ = "tblgoods_receipt"
    __crm__ = Resource(module="receipts", own=("addedfrom", "buyer_id"), label="Goods receipt notes", category="Warehouse", url="warehouse/manage_purchase",
                       lines="items", action_owned=("approval", "goods_receipt_code"), party="supplier",
                       # computed from the lines: crm/warehouse/totals.py
                       totals=("total_goods_money", "value_of_inventory", "total_tax_money", "total_money"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    goods_receipt_code: Mapped[str | None] = mapped_column(String(100), index=True)
    # Perfex keeps the vendor id in supplier_code; here it is a real link to tblpur_vendor.
    supplier_code: Mapped[int | None] = fk("tblpur_vendor.userid")
    supplier_name: Mapped[str | None] = mapped_column(String(191))
    buyer_id: Mapped[int | None] = fk("tblstaff.staffid")
    description: Mapped[str | None] = mapped_column(Text)
    pr_order_id: Mapped[int | None] = fk("tblpur_orders.id")
    date_c: Mapped[date | None] = mapped_column(Date, default=date.today, index=True)  # accounting date
    date_add: Mapped[date | None] = mapped_column(Date, default=date.today, index=True)  # voucher date
    total_tax_money: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total_goods_money: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    value_of_inventory: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total_money: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    approval: Mapped[int] = status_column(WarehouseApproval, default=0)
    addedfrom: Mapped[int | None] = fk("tblstaff.staffid")
    warehouse_id: Mapped[int | None] = fk("tblwarehouse.warehouse_id", ondelete="RESTRICT")
    expiry_date: Mapped[date | None] = mapped_column(Date)
    invoice_no: Mapped[str | None] = mapped_column(String(100))

    supplier = relationship("Vendor")
    buyer = relationship("Staff", foreign_keys=[buyer_id])
    added_by = relationship("Staff", foreign_keys=[addedfrom])
    pr_order = relationship("PurchaseOrder")
    warehouse = relationship("Warehouse")
    items = relationship("GoodsReceiptDetail", back_populates="goods_receipt", cascade="all, delete-orphan",
                         order_by="GoodsReceiptDetail.id")

    def __str__(self):
        return self.goods_receipt_code or f"Goods receipt #{self.id}"


class GoodsReceiptDetail(db.Model):
    __tablename__ = "tblgoods_receipt_detail"
    __crm__ = Resource(module="receipts", label="Goods receipt lines", totals=("goods_money", "tax_money"))  # warehouse/totals.py

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    goods_receipt_id: Mapped[int] = fk("tblgoods_receipt.id", nullable=False)
    commodity_code: Mapped[int | None] = fk("tblitems.id", ondelete="RESTRICT")  # holds the tblitems id
    commodity_name: Mapped[str | None] = mapped_column(String(255))
    warehouse_id: Mapped[int | None] = fk("tblwarehouse.warehouse_id", ondelete="RESTRICT")
    unit_id: Mapped[int | None] = fk("tblware_unit_type.unit_type_id")
    quantities: Mapped[Decimal] = mapped_column(QTY, default=Decimal("0"))
    unit_price: Mapped[Decimal] = mapped_column(UNIT_PRICE, default=Decimal("0"))
    tax: Mapped[int | None] = fk("tbltaxes.id")
    tax_money: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    goods_money: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    date_manufacture: Mapped[date | None] = mapped_column(Date)
    expiry_date: Mapped[date | None] = mapped_column(Date, index=True)
    lot_number: Mapped[str | None] = mapped_column(String(100))
    serial_number: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    # Addition: the purchase-order line this receives, so approval adds to its wh_quantity_received.
    pur_order_detail_id: Mapped[int | None] = fk("tblpur_order_detail.id")

    goods_receipt = relationship("GoodsReceipt", back_populates="items")
    commodity = relationship("Item")
    warehouse = relationship("Warehouse")
    unit = relationship("Unit")
    tax_rel = relationship("Tax")
    pur_order_line = relationship("PurchaseOrderDetail")

    def __str__(self):
        return f"{self.commodity_name or self.commodity} x {self.quantities}"


class DeliveryType(StatusEnum):
    TOTAL = ("total", "Total", "success")
    PARTIAL = ("partial", "Partial", "warning")


class GoodsDeliveryStatus(StatusEnum):
    READY_FOR_PACKING = ("ready_for_packing", "Ready for packing", "secondary")
    READY_TO_DELIVER = ("ready_to_deliver", "Ready to deliver", "info")
    DELIVERY_IN_PROGRESS = ("delivery_in_progress", "Delivery in progress", "primary")
    DELIVERED = ("delivered", "Delivered", "success")
    RECEIVED = ("received", "Received", "success")
    RETURNED = ("returned", "Returned", "danger")

    @classmethod
    def shown_for(cls, row, code):
        """A draft note short of stock is not ready for anything: it waits for the goods."""
        if (code == cls.READY_FOR_PACKING.value and row is not None and not row.flag_export_warehouse
                and row.approval == WarehouseApproval.DRAFT.value):
            return "Waiting for stock", "warning"
        return super().shown_for(row, code)


class GoodsDelivery(db.Model):
    """tblgoods_delivery: the delivery note (prefix 'XK'); approval takes the goods out of stock."""

    __tablename__ = "tblgoods_delivery"
    __crm__ = Resource(module="deliveries", own=("staff_id", "addedfrom"), label="Delivery notes", category="Warehouse", url="warehouse/manage_delivery",
                       lines="items", action_owned=("approval", "delivery_status", "goods_delivery_code"), party="customer",
                       totals=("sub_total", "total_discount", "after_discount", "total_money"),  # warehouse/totals.py
                       main_actions=("check_stock", "approve", "create_packing_list"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    goods_delivery_code: Mapped[str | None] = mapped_column(String(100), index=True)
    customer_code: Mapped[int | None] = fk("tblclients.userid")  # the client id
    customer_name: Mapped[str | None] = mapped_column(String(191))
    to_: Mapped[str | None] = mapped_column(String(191))
    address: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    staff_id: Mapped[int | None] = fk("tblstaff.staffid")
    date_c: Mapped[date | None] = mapped_column(Date, default=date.today, index=True)  # accounting date
    date_add: Mapped[date | None] = mapped_column(Date, default=date.today, index=True)  # voucher date
    approval: Mapped[int] = status_column(WarehouseApproval, default=0)
    addedfrom: Mapped[int | None] = fk("tblstaff.staffid")
    sub_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total_discount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    after_discount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total_money: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    warehouse_id: Mapped[int | None] = fk("tblwarehouse.warehouse_id", ondelete="RESTRICT")
    invoice_id: Mapped[int | None] = fk("tblinvoices.id")
    # Perfex: the originating order of other modules (e.g. an Omni Sales cart); no table of ours.
    pr_order_id: Mapped[int | None] = mapped_column(Integer)
    type_of_delivery: Mapped[str] = status_column(DeliveryType, default="total")
    delivery_status: Mapped[str] = status_column(GoodsDeliveryStatus, default="ready_for_packing")
    # Seed: 0 = not enough stock, the note cannot be approved; 1 = stock available.
    flag_export_warehouse: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    shipping_fee: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))

    customer = relationship("Client")
    staff = relationship("Staff", foreign_keys=[staff_id])
    added_by = relationship("Staff", foreign_keys=[addedfrom])
    warehouse = relationship("Warehouse")
    invoice = relationship("Invoice")
    items = relationship("GoodsDeliveryDetail", back_populates="goods_delivery", cascade="all, delete-orphan",
                         order_by="GoodsDeliveryDetail.id")

    def __str__(self):
        return self.goods_delivery_code or f"Delivery note #{self.id}"


class GoodsDeliveryDetail(db.Model):
    __tablename__ = "tblgoods_delivery_detail"
    __crm__ = Resource(module="deliveries", label="Delivery note lines",
                       totals=("total_money", "discount_money", "total_after_discount"))  # warehouse/totals.py

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    goods_delivery_id: Mapped[int] = fk("tblgoods_delivery.id", nullable=False)
    commodity_code: Mapped[int | None] = fk("tblitems.id", ondelete="RESTRICT")  # holds the tblitems id
    commodity_name: Mapped[str | None] = mapped_column(String(255))
    warehouse_id: Mapped[int | None] = fk("tblwarehouse.warehouse_id", ondelete="RESTRICT")
    unit_id: Mapped[int | None] = fk("tblware_unit_type.unit_type_id")
    quantities: Mapped[Decimal] = mapped_column(QTY, default=Decimal("0"))
    unit_price: Mapped[Decimal] = mapped_column(UNIT_PRICE, default=Decimal("0"))
    tax: Mapped[int | None] = fk("tbltaxes.id")
    total_money: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    discount: Mapped[Decimal | None] = mapped_column(RATE)  # percent
    discount_money: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total_after_discount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    available_quantity: Mapped[Decimal | None] = mapped_column(QTY)  # stock seen when the note was made
    # After approval: the lots consumed with their quantities, e.g. "LOT1,4,LOT2,6".
    lot_number: Mapped[str | None] = mapped_column(String(255))
    # After approval: the earliest expiry among the lots consumed (per-lot detail is in the ledger).
    expiry_date: Mapped[date | None] = mapped_column(Date)
    packing_qty: Mapped[Decimal] = mapped_column(QTY, default=Decimal("0"))  # already put in packing lists
    serial_number: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    # The invoice line delivered (tblitemable), to compare delivered with invoiced quantities.
    itemable_id: Mapped[int | None] = fk("tblitemable.id")

    goods_delivery = relationship("GoodsDelivery", back_populates="items")
    commodity = relationship("Item")
    warehouse = relationship("Warehouse")
    unit = relationship("Unit")
    tax_rel = relationship("Tax")
    invoice_line = relationship("ItemLine")

    def __str__(self):
        return f"{self.commodity_name or self.commodity} x {self.quantities}"


class StockTransactionType(StatusEnum):
    RECEIPT = (1, "Receipt", "success")
    DELIVERY = (2, "Delivery", "primary")
    LOSS_ADJUSTMENT = (3, "Loss / adjustment", "warning")
    INTERNAL_TRANSFER = (4, "Internal transfer", "info")
    RETURN = (5, "Return", "secondary")  # addition: client returns re-entered into stock


class StockTransaction(db.Model):
    """tblgoods_transaction_detail: the stock ledger, one row per movement of one lot.

    ``goods_receipt_id`` is the parent document of any type (named by ``rel_type``) and
    ``goods_id`` its line; ``old_quantity`` is the lot's balance before the movement and ``quantity``
    the signed change (+ in, - out), so a balance is the sum of its lot's ledger rows.
    """

    __tablename__ = "tblgoods_transaction_detail"
    __crm__ = Resource(module="stock", label="Stock history", category="Warehouse", url="warehouse/warehouse_history",
                       readonly=True,
                       admin={"column_list": ["date_add", "status", "commodity", "warehouse", "lot_number",
                                              "expiry_date", "old_quantity", "quantity", "purchase_price",
                                              "rel_type", "goods_receipt_id", "note"],
                              "column_searchable_list": ["lot_number", "rel_type", "note"]})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    goods_receipt_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # 'goods_receipt', 'goods_delivery', 'loss_adjustment', 'physical_inventory', 'order_return', ...
    rel_type: Mapped[str | None] = mapped_column(String(30), index=True)
    goods_id: Mapped[int | None] = mapped_column(Integer, index=True)
    old_quantity: Mapped[Decimal | None] = mapped_column(QTY)
    quantity: Mapped[Decimal] = mapped_column(QTY, default=Decimal("0"))
    date_add: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)
    commodity_id: Mapped[int] = fk("tblitems.id", nullable=False, ondelete="RESTRICT")
    warehouse_id: Mapped[int] = fk("tblwarehouse.warehouse_id", nullable=False, ondelete="RESTRICT")
    status: Mapped[int] = status_column(StockTransactionType, default=1)
    purchase_price: Mapped[Decimal | None] = mapped_column(UNIT_PRICE)
    price: Mapped[Decimal | None] = mapped_column(UNIT_PRICE)
    expiry_date: Mapped[date | None] = mapped_column(Date)
    lot_number: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)

    commodity = relationship("Item")
    warehouse = relationship("Warehouse")

    def __str__(self):
        return f"{StockTransactionType.label_of(self.status)} {self.quantity} of {self.commodity}"


class PackingListStatus(StatusEnum):
    READY_TO_DELIVER = ("wh_ready_to_deliver", "Ready to deliver", "secondary")
    IN_TRANSIT = ("wh_in_transit", "In transit", "info")
    DELIVERED = ("wh_delivered", "Delivered", "success")


class PackingList(BillingShipping, db.Model):
    """tblwh_packing_lists (prefix 'PL'): the parcel of a delivery note, dimensions in cm, weight in kg."""

    __tablename__ = "tblwh_packing_lists"
    __crm__ = Resource(module="deliveries", own=("staff_id",), label="Packing lists", category="Warehouse", url="warehouse/manage_packing_list",
                       lines="items", action_owned=("approval", "delivery_status", "packing_list_number"), party="client",
                       totals=("subtotal", "discount_total", "total_after_discount", "total_amount"),
                       main_actions=("approve", "create_awb", "mark_in_transit", "mark_delivered"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_note_id: Mapped[int | None] = fk("tblgoods_delivery.id")
    packing_list_number: Mapped[str | None] = mapped_column(String(100), index=True)
    packing_list_name: Mapped[str | None] = mapped_column(String(191))
    width: Mapped[Decimal | None] = mapped_column(MEASURE)
    height: Mapped[Decimal | None] = mapped_column(MEASURE)
    lenght: Mapped[Decimal | None] = mapped_column(MEASURE)  # sic: the documented column name
    weight: Mapped[Decimal | None] = mapped_column(MEASURE)
    volume: Mapped[Decimal | None] = mapped_column(MEASURE)
    clientid: Mapped[int | None] = fk("tblclients.userid")
    subtotal: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    discount_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    additional_discount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total_after_discount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total_amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    client_note: Mapped[str | None] = mapped_column(Text)
    admin_note: Mapped[str | None] = mapped_column(Text)
    approval: Mapped[int] = status_column(WarehouseApproval, default=0)
    datecreated: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)
    staff_id: Mapped[int | None] = fk("tblstaff.staffid")
    type_of_packing_list: Mapped[str | None] = mapped_column(String(30), default="total")  # 'total' / 'partial'
    delivery_status: Mapped[str] = status_column(PackingListStatus, default="wh_ready_to_deliver")
    shipping_fee: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))

    delivery_note = relationship("GoodsDelivery")
    client = relationship("Client")
    staff = relationship("Staff")
    items = relationship("PackingListDetail", back_populates="packing_list", cascade="all, delete-orphan",
                         order_by="PackingListDetail.id")
    # Its courier booking (one at most); selectin so a list page's row buttons need one query in all.
    shipment = relationship("Shipment", uselist=False, viewonly=True, lazy="selectin")

    def __str__(self):
        return self.packing_list_number or f"Packing list #{self.id}"


class PackingListDetail(db.Model):
    __tablename__ = "tblwh_packing_list_details"
    __crm__ = Resource(module="deliveries", label="Packing list lines",
                       totals=("sub_total", "discount_total", "total_after_discount", "total_amount"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    packing_list_id: Mapped[int] = fk("tblwh_packing_lists.id", nullable=False)
    delivery_detail_id: Mapped[int | None] = fk("tblgoods_delivery_detail.id")
    commodity_code: Mapped[int | None] = fk("tblitems.id", ondelete="RESTRICT")  # holds the tblitems id
    commodity_name: Mapped[str | None] = mapped_column(String(255))
    quantity: Mapped[Decimal] = mapped_column(QTY, default=Decimal("0"))
    unit_id: Mapped[int | None] = fk("tblware_unit_type.unit_type_id")
    unit_price: Mapped[Decimal] = mapped_column(UNIT_PRICE, default=Decimal("0"))
    sub_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    tax: Mapped[int | None] = fk("tbltaxes.id")
    total_amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    discount: Mapped[Decimal | None] = mapped_column(RATE)  # percent
    discount_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total_after_discount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    lot_number: Mapped[str | None] = mapped_column(String(255))
    expiry_date: Mapped[date | None] = mapped_column(Date)
    serial_number: Mapped[str | None] = mapped_column(Text)

    packing_list = relationship("PackingList", back_populates="items")
    delivery_line = relationship("GoodsDeliveryDetail")
    commodity = relationship("Item")
    unit = relationship("Unit")
    tax_rel = relationship("Tax")

    def __str__(self):
        return f"{self.commodity_name or self.commodity} x {self.quantity}"


class LossAdjustmentType(StatusEnum):
    LOSS = ("loss", "Loss", "danger")
    ADJUSTMENT = ("adjustment", "Adjustment", "warning")


class LossAdjustmentStatus(StatusEnum):
    CREATED = (0, "Created", "secondary")
    APPROVED = (1, "Approved", "success")  # approved and applied to stock
    REJECTED = (-1, "Rejected", "danger")


class LossAdjustment(db.Model):
    """tblwh_loss_adjustment: approval sets each lot's quantity to the counted one (ledger status 3)."""

    __tablename__ = "tblwh_loss_adjustment"
    __crm__ = Resource(module="stock", label="Loss & adjustments", category="Warehouse", url="warehouse/loss_adjustment",
                       lines="items", action_owned=("status",), creator="addfrom", own=("addfrom",))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = status_column(LossAdjustmentType, default="loss")
    addfrom: Mapped[int | None] = fk("tblstaff.staffid")
    reason: Mapped[str | None] = mapped_column(Text)
    time: Mapped[datetime | None] = mapped_column(DateTime, default=datetime.utcnow, index=True)
    date_create: Mapped[date | None] = mapped_column(Date, default=date.today, index=True)
    status: Mapped[int] = status_column(LossAdjustmentStatus, default=0)
    warehouses: Mapped[int | None] = fk("tblwarehouse.warehouse_id", ondelete="RESTRICT")  # sic: one warehouse

    added_by = relationship("Staff")
    warehouse = relationship("Warehouse")
    items = relationship("LossAdjustmentDetail", back_populates="loss_adjustment_rel",
                         cascade="all, delete-orphan", order_by="LossAdjustmentDetail.id")

    def __str__(self):
        return f"{LossAdjustmentType.label_of(self.type)} #{self.id}"


class LossAdjustmentDetail(db.Model):
    __tablename__ = "tblwh_loss_adjustment_detail"
    __crm__ = Resource(module="stock", label="Loss & adjustment lines")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loss_adjustment: Mapped[int] = fk("tblwh_loss_adjustment.id", nullable=False)
    items: Mapped[int | None] = fk("tblitems.id", ondelete="RESTRICT")  # sic: the item id
    unit: Mapped[int | None] = fk("tblware_unit_type.unit_type_id")
    current_number: Mapped[Decimal] = mapped_column(QTY, default=Decimal("0"))  # book quantity
    updates_number: Mapped[Decimal] = mapped_column(QTY, default=Decimal("0"))  # the counted quantity
    expiry_date: Mapped[date | None] = mapped_column(Date)
    lot_number: Mapped[str | None] = mapped_column(String(100))
    # Addition: the exact balance row (lot) adjusted, when known.
    inventory_manage_id: Mapped[int | None] = fk("tblinventory_manage.id")

    loss_adjustment_rel = relationship("LossAdjustment", back_populates="items")
    commodity = relationship("Item")
    unit_rel = relationship("Unit")
    balance = relationship("InventoryBalance")

    def __str__(self):
        return f"{self.commodity}: {self.current_number} -> {self.updates_number}"


class PhysicalInventory(db.Model):
    """A stock take (seed addition): count lines whose approval posts the differences as adjustments."""

    __tablename__ = "tblwh_physical_inventory"
    __crm__ = Resource(module="stock", own=("addedfrom",), label="Physical inventory", category="Warehouse", url="warehouse/physical_inventory",
                       lines="items", action_owned=("status", "code", "loss_adjustment_id"),
                       main_actions=("fill", "upload_counts", "approve"),
                       admin={"column_list": ["code", "warehouse_id", "date", "status", "note", "loss_adjustment_id"],
                              # numbered, filled and approved by its actions (crm/warehouse/actions/physical_inventory.py)
                              "form_excluded_columns": ["loss_adjustment", "added_by"]})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(100), index=True)
    warehouse_id: Mapped[int | None] = fk("tblwarehouse.warehouse_id", ondelete="RESTRICT")
    date: Mapped[date | None] = mapped_column(Date, default=date.today, index=True)
    status: Mapped[int] = status_column(WarehouseApproval, default=0)
    addedfrom: Mapped[int | None] = fk("tblstaff.staffid")
    note: Mapped[str | None] = mapped_column(Text)
    datecreated: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
    # The loss/adjustment document the approval produced, if it posts through one.
    loss_adjustment_id: Mapped[int | None] = fk("tblwh_loss_adjustment.id")

    warehouse = relationship("Warehouse")
    added_by = relationship("Staff")
    loss_adjustment = relationship("LossAdjustment")
    items = relationship("PhysicalInventoryDetail", back_populates="physical_inventory",
                         cascade="all, delete-orphan", order_by="PhysicalInventoryDetail.id")

    def __str__(self):
        return self.code or f"Physical inventory #{self.id}"


class PhysicalInventoryDetail(db.Model):
    __tablename__ = "tblwh_physical_inventory_detail"
    # Counted one by one (PATCH /api/v1/wh_physical_inventory_detail/<id>); what the books held and
    # the lot counted are frozen by ``fill``: the approval posts counted - book to that lot.
    __crm__ = Resource(module="stock", label="Physical inventory lines", own_door=True,
                       action_owned=("book_quantity", "inventory_manage_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    physical_inventory_id: Mapped[int] = fk("tblwh_physical_inventory.id", nullable=False)
    item: Mapped[int | None] = fk("tblitems.id", ondelete="RESTRICT")
    warehouse: Mapped[int | None] = fk("tblwarehouse.warehouse_id", ondelete="RESTRICT")
    inventory_manage_id: Mapped[int | None] = fk("tblinventory_manage.id")  # the lot counted, when known
    lot_number: Mapped[str | None] = mapped_column(String(100))
    expiry_date: Mapped[date | None] = mapped_column(Date)
    book_quantity: Mapped[Decimal] = mapped_column(QTY, default=Decimal("0"))
    counted_quantity: Mapped[Decimal | None] = mapped_column(QTY)  # None: not counted yet
    difference: Mapped[Decimal] = mapped_column(QTY, default=Decimal("0"))  # counted - book

    physical_inventory = relationship("PhysicalInventory", back_populates="items")
    commodity = relationship("Item")
    warehouse_rel = relationship("Warehouse")
    balance = relationship("InventoryBalance")

    _own_difference = False  # set while the validator below writes ``difference`` itself

    @validates("book_quantity", "counted_quantity", "difference")
    def _keep_difference(self, key, value):
        """``difference`` follows the quantities whatever sets them (grid, upload, API); a value sent
        for it (an edit form posts back the one it showed) is not taken."""
        if key == "difference":
            return value if self._own_difference else self._difference(self.book_quantity, self.counted_quantity)
        try:
            value = None if value is None or value == "" else Decimal(str(value))
        except ArithmeticError:
            raise FieldError(key, f"{str(value)[:40]!r} is not a quantity.") from None
        if key == "counted_quantity" and value is not None and value < 0:
            raise FieldError("counted_quantity", "a counted quantity cannot be negative.")
        book = value if key == "book_quantity" else self.book_quantity
        counted = value if key == "counted_quantity" else self.counted_quantity
        self._own_difference = True
        try:
            self.difference = self._difference(book, counted)
        finally:
            self._own_difference = False
        return value

    @staticmethod
    def _difference(book, counted) -> Decimal:
        return counted - (book or Decimal("0")) if counted is not None else Decimal("0")

    def __str__(self):
        return f"{self.commodity}: {self.book_quantity} / {self.counted_quantity}"


class OrderReturn(db.Model):
    """tblwh_order_returns: goods a client sends back, re-entered into stock on approval."""

    __tablename__ = "tblwh_order_returns"
    __crm__ = Resource(module="deliveries", own=("staff_id",), label="Client returns", category="Warehouse",
                       url="warehouse/manage_order_return_receipt", lines="items", action_owned=("approval",),
                       totals=("subtotal", "total_amount"),  # crm/warehouse/totals.py
                       party="client")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_return_number: Mapped[str | None] = mapped_column(String(100), index=True)
    order_return_name: Mapped[str | None] = mapped_column(String(191))
    # Perfex: 'manual', 'sales_return_order', 'purchasing_return_order'.
    rel_type: Mapped[str] = mapped_column(String(50), default="manual")
    return_type: Mapped[str | None] = mapped_column(String(50))  # 'manual', 'partially', 'fully'
    company_id: Mapped[int | None] = fk("tblclients.userid")  # the client (Perfex name)
    company_name: Mapped[str | None] = mapped_column(String(191))
    invoice_id: Mapped[int | None] = fk("tblinvoices.id")
    delivery_note_id: Mapped[int | None] = fk("tblgoods_delivery.id")
    warehouse_id: Mapped[int | None] = fk("tblwarehouse.warehouse_id", ondelete="RESTRICT")
    date: Mapped[date | None] = mapped_column(Date, default=date.today, index=True)
    approval: Mapped[int] = status_column(WarehouseApproval, default=0)
    return_reason: Mapped[str | None] = mapped_column(Text)
    currency: Mapped[int | None] = fk("tblcurrencies.id")
    subtotal: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total_amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    fee_return_order: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    staff_id: Mapped[int | None] = fk("tblstaff.staffid")
    datecreated: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)

    client = relationship("Client")
    invoice = relationship("Invoice")
    delivery_note = relationship("GoodsDelivery")
    warehouse = relationship("Warehouse")
    currency_rel = relationship("Currency")
    staff = relationship("Staff")
    items = relationship("OrderReturnDetail", back_populates="order_return", cascade="all, delete-orphan",
                         order_by="OrderReturnDetail.id")

    def __str__(self):
        return self.order_return_number or f"Return #{self.id}"


class OrderReturnDetail(db.Model):
    __tablename__ = "tblwh_order_return_details"
    __crm__ = Resource(module="deliveries", label="Client return lines",
                       totals=("sub_total", "discount_total", "total_after_discount", "total_amount"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_return_id: Mapped[int] = fk("tblwh_order_returns.id", nullable=False)
    rel_type_detail_id: Mapped[int | None] = mapped_column(Integer)  # the returned line of the source document
    commodity_code: Mapped[int | None] = fk("tblitems.id", ondelete="RESTRICT")  # holds the tblitems id
    commodity_name: Mapped[str | None] = mapped_column(String(255))
    quantity: Mapped[Decimal] = mapped_column(QTY, default=Decimal("0"))
    unit_id: Mapped[int | None] = fk("tblware_unit_type.unit_type_id")
    unit_price: Mapped[Decimal] = mapped_column(UNIT_PRICE, default=Decimal("0"))
    purchase_price: Mapped[Decimal] = mapped_column(UNIT_PRICE, default=Decimal("0"))
    sub_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    tax: Mapped[int | None] = fk("tbltaxes.id")
    total_amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    discount: Mapped[Decimal | None] = mapped_column(RATE)  # percent
    discount_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total_after_discount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    lot_number: Mapped[str | None] = mapped_column(String(100))
    expiry_date: Mapped[date | None] = mapped_column(Date)
    reason_return: Mapped[str | None] = mapped_column(String(200))

    order_return = relationship("OrderReturn", back_populates="items")
    commodity = relationship("Item")
    unit = relationship("Unit")
    tax_rel = relationship("Tax")

    def __str__(self):
        return f"{self.commodity_name or self.commodity} x {self.quantity}"


class ShipmentStatus(StatusEnum):
    """Our side of an AWB's life; the courier's own wording is kept in ``last_event``."""

    PENDING = ("pending", "Pending", "secondary")
    CREATED = ("created", "AWB created", "info")
    IN_TRANSIT = ("in_transit", "In transit", "primary")
    DELIVERED = ("delivered", "Delivered", "success")
    CANCELLED = ("cancelled", "Cancelled", "dark")
    FAILED = ("failed", "Failed", "danger")


class Shipment(db.Model):
    """tblwh_omni_shipments: the courier shipment (AWB) of a packing list, booked through Innoship."""

    __tablename__ = "tblwh_omni_shipments"
    # The seed's "AWBs in transit" report: this list, filtered by status.
    __crm__ = Resource(module="deliveries", label="AWBs (Innoship)", category="Warehouse", url="innoship/awb",
                       readonly=True,
                       admin={"column_list": ["awb_number", "packing_list", "courier", "status", "price", "currency",
                                              "last_event", "created_at", "error"],
                              "column_default_sort": ("created_at", True)})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    packing_list_id: Mapped[int | None] = fk("tblwh_packing_lists.id", unique=True)
    delivery_note_id: Mapped[int | None] = fk("tblgoods_delivery.id")
    awb_number: Mapped[str | None] = mapped_column(String(60), index=True)  # Innoship courierShipmentId
    courier: Mapped[str | None] = mapped_column(String(60))  # courier name
    courier_id: Mapped[int | None] = mapped_column(Integer)  # Innoship courier id (1 Cargus, 2 DPD, ...)
    service: Mapped[int | None] = mapped_column(Integer)  # Innoship serviceId (1 national standard, ...)
    price: Mapped[Decimal | None] = mapped_column(MONEY)
    currency: Mapped[str | None] = mapped_column(String(10))  # currency code returned by the courier
    tracking_url: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = status_column(ShipmentStatus, default="pending")
    label_path: Mapped[str | None] = mapped_column(String(255))
    last_event: Mapped[str | None] = mapped_column(Text)
    events: Mapped[str | None] = mapped_column(Text)  # JSON list of tracking events
    external_order_id: Mapped[str | None] = mapped_column(String(100), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, default=datetime.utcnow, onupdate=datetime.utcnow)
    error: Mapped[str | None] = mapped_column(Text)
    # Booking retries after a 5xx or a timeout: how many so far, and when the next one is due.
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)

    packing_list = relationship("PackingList")
    delivery_note = relationship("GoodsDelivery")

    def __str__(self):
        return self.awb_number or f"Shipment #{self.id}"
