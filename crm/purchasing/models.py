"""Purchasing: vendors and their contacts, requests for quotation, vendor quotations, purchase
orders, vendor invoices and their payments.

Mirrors the Perfex Purchase module (tbl-prefixed, documented column names kept). Every line
table links its item (``item_code`` -> tblitems.id), unit and tax with real foreign keys.
Perfex's ``discount_%`` line column is ``discount`` here (a percent).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.extensions import db
from crm.core.models.base import MONEY, QTY, RATE, UNIT_PRICE, BillingShipping, Resource, StatusEnum, fk, status_column


class Vendor(BillingShipping, db.Model):
    __tablename__ = "tblpur_vendor"
    __crm__ = Resource(module="vendors", own=("addedfrom",),
        label="Vendors", category="Purchasing", url="purchase/vendors", name="pur_vendor",
        admin={"column_list": ["vendor_code", "company", "vat", "phonenumber", "city", "country", "active"],
               "column_searchable_list": ["vendor_code", "company", "vat", "phonenumber"]},
    )

    userid: Mapped[int] = mapped_column(Integer, primary_key=True)
    vendor_code: Mapped[str | None] = mapped_column(String(100), index=True)
    company: Mapped[str] = mapped_column(String(191))
    vat: Mapped[str | None] = mapped_column(String(50), index=True)
    phonenumber: Mapped[str | None] = mapped_column(String(30))
    country: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    zip: Mapped[str | None] = mapped_column(String(15))
    state: Mapped[str | None] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(String(255))
    website: Mapped[str | None] = mapped_column(String(150))
    datecreated: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    payment_terms: Mapped[str | None] = mapped_column(String(255))
    default_currency: Mapped[int | None] = fk("tblcurrencies.id")
    addedfrom: Mapped[int | None] = fk("tblstaff.staffid")

    currency_rel = relationship("Currency")
    added_by = relationship("Staff")
    contacts = relationship("VendorContact", back_populates="vendor", cascade="all, delete-orphan")

    def __str__(self):
        return self.company


class VendorContact(db.Model):
    __tablename__ = "tblpur_contacts"
    __crm__ = Resource(module="vendors", label="Vendor contacts", category="Purchasing", url="purchase/vendor_contacts",
                       admin={"column_exclude_list": ["password"], "form_excluded_columns": ["password"],
                              "column_details_exclude_list": ["password"]})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    userid: Mapped[int] = fk("tblpur_vendor.userid", nullable=False)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    firstname: Mapped[str] = mapped_column(String(191))
    lastname: Mapped[str] = mapped_column(String(191), default="")
    email: Mapped[str | None] = mapped_column(String(100), index=True)
    phonenumber: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(100))
    datecreated: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
    password: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    vendor = relationship("Vendor", back_populates="contacts")

    def __str__(self):
        return f"{self.firstname} {self.lastname}".strip()


class PurchaseRequestStatus(StatusEnum):
    DRAFT = (1, "Draft", "secondary")
    APPROVED = (2, "Approved", "success")  # sent to vendors
    REJECTED = (3, "Rejected", "danger")
    CANCELED = (4, "Canceled", "dark")


class PurchaseRequest(db.Model):
    """tblpur_request: the request for quotation (prefix '#PR').

    The seed notes there is no link from a sales order to purchasing in Perfex; ``sale_estimate``
    and ``sale_invoice`` give one.
    """

    __tablename__ = "tblpur_request"
    __crm__ = Resource(module="purchases", own=("requester",), label="Requests for quotation", category="Purchasing", url="purchase/purchase_request",
                       lines="items", action_owned=("status", "pur_rq_code"), main_actions=("approve", "request_quotations", "send_to_vendors"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pur_rq_code: Mapped[str | None] = mapped_column(String(100), index=True)
    pur_rq_name: Mapped[str] = mapped_column(String(191))
    rq_description: Mapped[str | None] = mapped_column(Text)
    requester: Mapped[int | None] = fk("tblstaff.staffid")
    department: Mapped[int | None] = mapped_column(Integer)  # Perfex department id (no table here)
    request_date: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)
    status: Mapped[int] = status_column(PurchaseRequestStatus, default=1)
    hash: Mapped[str | None] = mapped_column(String(32))
    currency: Mapped[int | None] = fk("tblcurrencies.id")
    subtotal: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total_tax: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    sale_invoice: Mapped[int | None] = fk("tblinvoices.id")
    sale_estimate: Mapped[int | None] = fk("tblestimates.id")
    send_to_vendors: Mapped[str | None] = mapped_column(Text, info={"ids_of": "tblpur_vendor", "ids_text": "comma"})  # "3,1"
    # Backorder: the short delivery note this RFQ buys for (with sale_invoice and sale_estimate).
    goods_delivery_id: Mapped[int | None] = fk("tblgoods_delivery.id")

    requester_rel = relationship("Staff")
    currency_rel = relationship("Currency")
    sale_invoice_rel = relationship("Invoice")
    sale_estimate_rel = relationship("Estimate")
    goods_delivery = relationship("GoodsDelivery")
    items = relationship("PurchaseRequestDetail", back_populates="pur_request_rel", cascade="all, delete-orphan",
                         order_by="PurchaseRequestDetail.id")

    def __str__(self):
        return self.pur_rq_code or self.pur_rq_name


class PurchaseRequestDetail(db.Model):
    __tablename__ = "tblpur_request_detail"
    __crm__ = Resource(module="purchases", label="Request for quotation lines",
                       totals=("into_money", "tax_value", "total"))  # purchase_common.line_totals

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pur_request: Mapped[int] = fk("tblpur_request.id", nullable=False)
    item_code: Mapped[int | None] = fk("tblitems.id", ondelete="RESTRICT")
    item_text: Mapped[str | None] = mapped_column(String(255))
    unit_id: Mapped[int | None] = fk("tblware_unit_type.unit_type_id")
    unit_price: Mapped[Decimal] = mapped_column(UNIT_PRICE, default=Decimal("0"))
    quantity: Mapped[Decimal] = mapped_column(QTY, default=Decimal("0"))
    into_money: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))  # quantity x unit_price
    inventory_quantity: Mapped[Decimal | None] = mapped_column(QTY)  # stock on hand when requested
    tax: Mapped[int | None] = fk("tbltaxes.id")
    tax_value: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))

    pur_request_rel = relationship("PurchaseRequest", back_populates="items")
    item = relationship("Item")
    unit = relationship("Unit")
    tax_rel = relationship("Tax")

    def __str__(self):
        return f"{self.item_text or self.item} x {self.quantity}"


class PurchaseQuotationStatus(StatusEnum):
    PENDING = (1, "Pending", "warning")  # received, not yet evaluated
    ACCEPTED = (2, "Accepted", "success")  # the winning quote
    REJECTED = (3, "Rejected", "danger")
    CANCELED = (4, "Canceled", "dark")


class PurchaseQuotation(db.Model):
    """tblpur_estimates: a vendor's quotation answering a request for quotation."""

    __tablename__ = "tblpur_estimates"
    __crm__ = Resource(module="purchases", own=("buyer", "addedfrom"), label="Vendor quotations", category="Purchasing", url="purchase/myquotations",
                       lines="items", action_owned=("status", "prefix"), party="vendor_rel",
                       main_actions=("accept", "create_purchase_order"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vendor: Mapped[int | None] = fk("tblpur_vendor.userid", ondelete="RESTRICT")
    pur_request: Mapped[int | None] = fk("tblpur_request.id")
    number: Mapped[int | None] = mapped_column(Integer, index=True)
    prefix: Mapped[str | None] = mapped_column(String(50))
    date: Mapped[date | None] = mapped_column(Date, default=date.today, index=True)
    expirydate: Mapped[date | None] = mapped_column(Date, index=True)
    delivery_date: Mapped[date | None] = mapped_column(Date, index=True)  # the vendor's promised delivery
    currency: Mapped[int | None] = fk("tblcurrencies.id")
    subtotal: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total_tax: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    discount_percent: Mapped[Decimal | None] = mapped_column(RATE)
    discount_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    status: Mapped[int] = status_column(PurchaseQuotationStatus, default=1)
    buyer: Mapped[int | None] = fk("tblstaff.staffid")
    addedfrom: Mapped[int | None] = fk("tblstaff.staffid")
    datecreated: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
    vendornote: Mapped[str | None] = mapped_column(Text)
    terms: Mapped[str | None] = mapped_column(Text)
    hash: Mapped[str | None] = mapped_column(String(32))

    vendor_rel = relationship("Vendor")
    pur_request_rel = relationship("PurchaseRequest")
    currency_rel = relationship("Currency")
    buyer_rel = relationship("Staff", foreign_keys=[buyer])
    added_by = relationship("Staff", foreign_keys=[addedfrom])
    items = relationship("PurchaseQuotationDetail", back_populates="pur_estimate_rel",
                         cascade="all, delete-orphan", order_by="PurchaseQuotationDetail.id")

    def __str__(self):
        if self.number is not None:
            return f"{self.prefix or ''}{self.number}"
        return f"Quotation #{self.id}"


class PurchaseQuotationDetail(db.Model):
    __tablename__ = "tblpur_estimate_detail"
    __crm__ = Resource(module="purchases", label="Vendor quotation lines", totals=("into_money", "discount_money", "tax_value", "total"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pur_estimate: Mapped[int] = fk("tblpur_estimates.id", nullable=False)
    item_code: Mapped[int | None] = fk("tblitems.id", ondelete="RESTRICT")
    item_text: Mapped[str | None] = mapped_column(String(255))
    unit_id: Mapped[int | None] = fk("tblware_unit_type.unit_type_id")
    unit_price: Mapped[Decimal] = mapped_column(UNIT_PRICE, default=Decimal("0"))
    quantity: Mapped[Decimal] = mapped_column(QTY, default=Decimal("0"))
    into_money: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    tax: Mapped[int | None] = fk("tbltaxes.id")
    tax_value: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    discount: Mapped[Decimal | None] = mapped_column(RATE)  # percent (Perfex discount_%)
    discount_money: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))

    pur_estimate_rel = relationship("PurchaseQuotation", back_populates="items")
    item = relationship("Item")
    unit = relationship("Unit")
    tax_rel = relationship("Tax")

    def __str__(self):
        return f"{self.item_text or self.item} x {self.quantity}"


class PurchaseOrderStatus(StatusEnum):
    DRAFT = (1, "Draft", "secondary")
    APPROVED = (2, "Approved", "success")  # confirmed to the vendor
    REJECTED = (3, "Rejected", "danger")
    CANCELED = (4, "Canceled", "dark")


class PurchaseOrderProgress(StatusEnum):
    NOT_STARTED = (1, "Not started", "secondary")
    IN_PROGRESS = (2, "In progress", "info")
    COMPLETED = (3, "Completed", "success")


class PurchaseOrderDeliveryStatus(StatusEnum):
    NOT_DELIVERED = (0, "Not delivered", "danger")
    DELIVERED = (1, "Delivered", "success")
    PENDING = (2, "Pending", "warning")
    PARTIALLY_DELIVERED = (3, "Partially delivered", "info")


class PurchaseOrder(db.Model):
    """tblpur_orders (prefix '#PO'); goods receipts point here through pr_order_id."""

    __tablename__ = "tblpur_orders"
    __crm__ = Resource(module="purchases", own=("buyer", "addedfrom"), label="Purchase orders", category="Purchasing", url="purchase/purchase_order",
                       lines="items", action_owned=("status", "delivery_status", "pur_order_number"), party="vendor_rel",
                       main_actions=("approve", "send", "create_goods_receipt", "create_vendor_invoice"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pur_order_name: Mapped[str | None] = mapped_column(String(191))
    vendor: Mapped[int | None] = fk("tblpur_vendor.userid", ondelete="RESTRICT")
    estimate: Mapped[int | None] = fk("tblpur_estimates.id")
    pur_order_number: Mapped[str | None] = mapped_column(String(100), index=True)
    order_date: Mapped[date | None] = mapped_column(Date, default=date.today, index=True)
    status: Mapped[int] = status_column(PurchaseOrderStatus, default=1)
    order_status: Mapped[int] = status_column(PurchaseOrderProgress, default=1)
    delivery_status: Mapped[int] = status_column(PurchaseOrderDeliveryStatus, default=0)
    datecreated: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
    delivery_date: Mapped[date | None] = mapped_column(Date, index=True)
    subtotal: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total_tax: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    discount_percent: Mapped[Decimal | None] = mapped_column(RATE)
    discount_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    addedfrom: Mapped[int | None] = fk("tblstaff.staffid")
    vendornote: Mapped[str | None] = mapped_column(Text)
    terms: Mapped[str | None] = mapped_column(Text)
    buyer: Mapped[int | None] = fk("tblstaff.staffid")
    pur_request: Mapped[int | None] = fk("tblpur_request.id")
    sale_invoice: Mapped[int | None] = fk("tblinvoices.id")
    # Seed gap: no link from a sales order to its purchase order exists in Perfex; this is it.
    sale_estimate: Mapped[int | None] = fk("tblestimates.id")
    currency: Mapped[int | None] = fk("tblcurrencies.id")
    hash: Mapped[str | None] = mapped_column(String(32))

    vendor_rel = relationship("Vendor")
    estimate_rel = relationship("PurchaseQuotation")
    added_by = relationship("Staff", foreign_keys=[addedfrom])
    buyer_rel = relationship("Staff", foreign_keys=[buyer])
    pur_request_rel = relationship("PurchaseRequest")
    sale_invoice_rel = relationship("Invoice")
    sale_estimate_rel = relationship("Estimate")
    currency_rel = relationship("Currency")
    items = relationship("PurchaseOrderDetail", back_populates="pur_order_rel", cascade="all, delete-orphan",
                         order_by="PurchaseOrderDetail.id")

    def __str__(self):
        return self.pur_order_number or self.pur_order_name or f"Purchase order #{self.id}"


class PurchaseOrderDetail(db.Model):
    __tablename__ = "tblpur_order_detail"
    # What was received of a line is counted by approving goods receipts (crm/warehouse), never entered.
    __crm__ = Resource(module="purchases", label="Purchase order lines", action_owned=("wh_quantity_received",),
                       totals=("into_money", "discount_money", "tax_value", "total"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pur_order: Mapped[int] = fk("tblpur_orders.id", nullable=False)
    item_code: Mapped[int | None] = fk("tblitems.id", ondelete="RESTRICT")
    description: Mapped[str | None] = mapped_column(String(255))
    unit_id: Mapped[int | None] = fk("tblware_unit_type.unit_type_id")
    unit_price: Mapped[Decimal] = mapped_column(UNIT_PRICE, default=Decimal("0"))
    quantity: Mapped[Decimal] = mapped_column(QTY, default=Decimal("0"))
    into_money: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    tax: Mapped[int | None] = fk("tbltaxes.id")
    tax_value: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    discount: Mapped[Decimal | None] = mapped_column(RATE)  # percent (Perfex discount_%)
    discount_money: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    wh_quantity_received: Mapped[Decimal] = mapped_column(QTY, default=Decimal("0"), nullable=False,
                                                          info={"written_by": "approving a goods receipt of the order",
                                                                "done_of": "quantity", "done": "received"})

    pur_order_rel = relationship("PurchaseOrder", back_populates="items")
    item = relationship("Item")
    unit = relationship("Unit")
    tax_rel = relationship("Tax")

    def __str__(self):
        return f"{self.description or self.item} x {self.quantity}"


class VendorInvoicePaymentStatus(StatusEnum):
    UNPAID = ("unpaid", "Unpaid", "danger")
    PARTIALLY_PAID = ("partially_paid", "Partially paid", "warning")
    PAID = ("paid", "Paid", "success")


class VendorInvoice(db.Model):
    """tblpur_invoices: a vendor's bill. Left to pay = total - approved payments."""

    __tablename__ = "tblpur_invoices"
    __crm__ = Resource(module="vendor_invoices", own=("addedfrom",), label="Vendor invoices", category="Purchasing", url="purchase/myinvoices", lines="items",
                       action_owned=("payment_status", "invoice_number", "efactura_download_id"), party="vendor_rel", payments="payments")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int | None] = mapped_column(Integer, index=True)
    invoice_number: Mapped[str | None] = mapped_column(String(100), index=True)  # our formatted number
    vendor_invoice_number: Mapped[str | None] = mapped_column(String(100), index=True)  # the vendor's
    invoice_date: Mapped[date | None] = mapped_column(Date, default=date.today, index=True)
    duedate: Mapped[date | None] = mapped_column(Date, index=True)
    subtotal: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))  # the tax amount
    discount_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    vendor: Mapped[int | None] = fk("tblpur_vendor.userid", ondelete="RESTRICT")
    pur_order: Mapped[int | None] = fk("tblpur_orders.id")
    payment_status: Mapped[str] = status_column(VendorInvoicePaymentStatus, default="unpaid")
    currency: Mapped[int | None] = fk("tblcurrencies.id")
    transactionid: Mapped[str | None] = mapped_column(String(191))
    adminnote: Mapped[str | None] = mapped_column(Text)
    vendor_note: Mapped[str | None] = mapped_column(Text)
    terms: Mapped[str | None] = mapped_column(Text)
    addedfrom: Mapped[int | None] = fk("tblstaff.staffid")
    date_add: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
    # Addition: the ANAF message id (id_descarcare) of a bill received through e-Factura; unique,
    # so a received invoice is never recorded twice.
    efactura_download_id: Mapped[str | None] = mapped_column(String(40), unique=True)

    vendor_rel = relationship("Vendor")
    pur_order_rel = relationship("PurchaseOrder")
    currency_rel = relationship("Currency")
    added_by = relationship("Staff")
    items = relationship("VendorInvoiceDetail", back_populates="pur_invoice_rel", cascade="all, delete-orphan",
                         order_by="VendorInvoiceDetail.id")
    payments = relationship("VendorPayment", back_populates="pur_invoice_rel", cascade="all, delete-orphan",
                            order_by="VendorPayment.id")

    def __str__(self):
        return self.invoice_number or self.vendor_invoice_number or f"Vendor invoice #{self.id}"


class VendorInvoiceDetail(db.Model):
    __tablename__ = "tblpur_invoice_details"
    __crm__ = Resource(module="vendor_invoices", label="Vendor invoice lines", totals=("into_money", "discount_money", "tax_value", "total"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pur_invoice: Mapped[int] = fk("tblpur_invoices.id", nullable=False)
    item_code: Mapped[int | None] = fk("tblitems.id", ondelete="RESTRICT")
    description: Mapped[str | None] = mapped_column(String(255))
    unit_id: Mapped[int | None] = fk("tblware_unit_type.unit_type_id")
    unit_price: Mapped[Decimal] = mapped_column(UNIT_PRICE, default=Decimal("0"))
    quantity: Mapped[Decimal] = mapped_column(QTY, default=Decimal("0"))
    into_money: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    tax: Mapped[int | None] = fk("tbltaxes.id")
    tax_value: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    discount: Mapped[Decimal | None] = mapped_column(RATE)  # percent (Perfex discount_%)
    discount_money: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))

    pur_invoice_rel = relationship("VendorInvoice", back_populates="items")
    item = relationship("Item")
    unit = relationship("Unit")
    tax_rel = relationship("Tax")

    def __str__(self):
        return f"{self.description or self.item} x {self.quantity}"


class VendorPayment(db.Model):
    """tblpur_invoice_payment: only approved payments (approval_status 2) count towards paid."""

    __tablename__ = "tblpur_invoice_payment"
    # Written by the record_payment action only, so payment_status is always recomputed.
    __crm__ = Resource(module="vendor_payments", own=("requester",),
        label="Vendor payments", category="Finance", url="purchase/vendor_payments", readonly=True)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pur_invoice: Mapped[int] = fk("tblpur_invoices.id", nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    paymentmode: Mapped[str | None] = mapped_column(String(40))  # tblpayment_modes id, or a gateway name
    date: Mapped[date] = mapped_column(Date, default=date.today, index=True)
    daterecorded: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
    note: Mapped[str | None] = mapped_column(Text)
    transactionid: Mapped[str | None] = mapped_column(String(191))
    # Perfex: 1 pending, 2 approved, 3 rejected; payments recorded by staff are approved.
    approval_status: Mapped[int] = mapped_column(Integer, default=2, index=True)
    requester: Mapped[int | None] = fk("tblstaff.staffid")

    pur_invoice_rel = relationship("VendorInvoice", back_populates="payments")
    requester_rel = relationship("Staff")

    def __str__(self):
        return f"{self.amount} on {self.date}"
