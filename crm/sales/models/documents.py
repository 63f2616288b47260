"""Sales: proposals, estimates (sales orders), invoices, their lines and taxes, payments,
contracts and goals.

Document lines live in one table, tblitemable, shared by proposals, estimates, invoices and
credit notes through ``rel_type`` + ``rel_id`` (no foreign key: ``rel_id`` points at a different
table for each ``rel_type``). Each document exposes them as ``items`` (see :func:`itemable_lines`):
``invoice.items.append(ItemLine(...))`` sets the line's ``rel_type`` at once and its ``rel_id``
at flush, and removing a line from ``items`` deletes it.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, Index, Integer, Numeric, String, Text, event, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.extensions import db
from crm.core.labels import tax_label
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
from crm.sales.models.efactura import EFACTURA_COLUMNS, EfacturaInvoice

__all__ = [
    "DISCOUNT_TYPES", "LINE_REL_TYPES", "itemable_lines",
    "ProposalStatus", "Proposal", "EstimateStatus", "Estimate", "InvoiceStatus", "Invoice",
    "ItemLine", "ItemTax", "InvoicePayment", "ContractType", "ContractStatus", "Contract",
    "GoalType", "Goal",
]

# tbl*.discount_type: a percentage/amount taken off before tax (reduces subtotal and each tax
# proportionally) or after tax (off subtotal + tax). Empty/NULL: no discount.
DISCOUNT_TYPES = ("before_tax", "after_tax")
# tblitemable.rel_type / tblitem_tax.rel_type values.
LINE_REL_TYPES = ("proposal", "estimate", "invoice", "credit_note")


def itemable_lines(owner: str, rel_type: str):
    """The ``items`` relationship of a document class: its tblitemable rows of ``rel_type``.

    ``owner`` is the document's class name. The join marks ``ItemLine.rel_id`` as the foreign
    side, so a flush copies the document's id into it; ``rel_type`` is set when the line is
    appended (:func:`_line_joins_document`). Lines go with their document (delete-orphan).
    """
    return relationship(
        "ItemLine",
        primaryjoin=f"and_(foreign(ItemLine.rel_id) == {owner}.id, ItemLine.rel_type == '{rel_type}')",
        cascade="all, delete-orphan",
        order_by="ItemLine.item_order",
        info={"rel_type": rel_type},
        # The three documents' ``items`` all write tblitemable.rel_id, each for its own rel_type.
        overlaps="items",
    )


class _BillingShipping(BillingShipping):
    """The address columns plus include_shipping, as estimates and invoices carry them."""

    include_shipping: Mapped[bool] = mapped_column(Boolean, default=False, sort_order=10)


class _Acceptance:
    """Who accepted/signed a proposal, estimate or contract from the client portal, and when."""

    acceptance_firstname: Mapped[str | None] = mapped_column(String(50), sort_order=20)
    acceptance_lastname: Mapped[str | None] = mapped_column(String(50), sort_order=20)
    acceptance_email: Mapped[str | None] = mapped_column(String(100), sort_order=20)
    acceptance_date: Mapped[datetime | None] = mapped_column(DateTime, sort_order=20)
    acceptance_ip: Mapped[str | None] = mapped_column(String(45), sort_order=20)  # fits IPv6
    signature: Mapped[str | None] = mapped_column(String(255), sort_order=20)  # signature image file


class ProposalStatus(StatusEnum):
    DRAFT = (6, "Draft", "secondary")
    SENT = (4, "Sent", "info")
    OPEN = (1, "Open/Reviewed", "primary")  # the client opened the portal link
    SENT_MANUALLY = (7, "Sent manually", "info")  # status changed without sending the email
    ACCEPTED = (3, "Accepted", "success")
    DECLINED = (2, "Declined", "danger")
    REVISED = (5, "Revised", "warning")
    # Aliases used by the seed documents.
    REVIEWED = (1, "Open/Reviewed", "primary")
    REJECTED = (2, "Declined", "danger")


class Proposal(_Acceptance, db.Model):
    """tblproposals: a quote to a lead or a customer (``rel_type`` 'lead' | 'customer')."""

    __tablename__ = "tblproposals"
    __crm__ = Resource(module="proposals", own=("assigned", "addedfrom"),
        label="Proposals", category="Sales", url="proposals", aliases=("list_proposals",), lines="items",
        admin={"column_list": ["formatted_number", "subject", "proposal_to", "total", "date", "open_till",
                               "status", "assigned", "datecreated"],
               "column_searchable_list": ["formatted_number", "subject", "proposal_to", "email"]},
        action_owned=("status", "estimate_id", "invoice_id", "is_expiry_notified", "short_link"),
        rel_types=("proposal",),
        main_actions=("send", "accept", "convert_to_estimate", "convert_to_invoice", "create_contract"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Seed addition: proposals are numbered PRO-000001 (prefix option proposal_number_prefix).
    number: Mapped[int | None] = mapped_column(Integer, index=True)
    formatted_number: Mapped[str | None] = mapped_column(String(100), index=True)
    subject: Mapped[str] = mapped_column(String(191))
    content: Mapped[str | None] = mapped_column(Text)
    addedfrom: Mapped[int | None] = fk("tblstaff.staffid")
    datecreated: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)
    subtotal: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total_tax: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    adjustment: Mapped[Decimal | None] = mapped_column(MONEY)
    discount_percent: Mapped[Decimal] = mapped_column(RATE, default=Decimal("0"))
    discount_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    discount_type: Mapped[str | None] = mapped_column(String(30))  # DISCOUNT_TYPES
    show_quantity_as: Mapped[int] = mapped_column(Integer, default=1)  # 1 qty, 2 hours, 3 qty/hours
    currency: Mapped[int | None] = fk("tblcurrencies.id", ondelete="RESTRICT")
    open_till: Mapped[date | None] = mapped_column(Date, index=True)
    date: Mapped[date] = mapped_column(Date, index=True)
    # Polymorphic recipient, as in Perfex: rel_type 'lead' -> tblleads.id, 'customer' -> tblclients.userid.
    rel_id: Mapped[int | None] = mapped_column(Integer)
    rel_type: Mapped[str | None] = mapped_column(String(40))
    assigned: Mapped[int | None] = fk("tblstaff.staffid")  # becomes sale_agent on conversion
    hash: Mapped[str | None] = mapped_column(String(65), index=True)
    proposal_to: Mapped[str | None] = mapped_column(String(191))
    project_id: Mapped[int | None] = mapped_column(Integer)
    country: Mapped[str | None] = mapped_column(String(100))
    zip: Mapped[str | None] = mapped_column(String(50))
    state: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(150))
    phone: Mapped[str | None] = mapped_column(String(50))
    allow_comments: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[int] = status_column(ProposalStatus, default=ProposalStatus.DRAFT.value)
    estimate_id: Mapped[int | None] = fk("tblestimates.id")
    invoice_id: Mapped[int | None] = fk("tblinvoices.id")
    date_converted: Mapped[datetime | None] = mapped_column(DateTime)
    pipeline_order: Mapped[int] = mapped_column(Integer, default=1)
    is_expiry_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    short_link: Mapped[str | None] = mapped_column(String(100))
    # Seed addition: the opportunity (a tblleads row with is_opportunity=1) it was created from.
    opportunity_id: Mapped[int | None] = fk("tblleads.id")

    __table_args__ = (Index("ix_tblproposals_rel_id_rel_type", "rel_id", "rel_type"),)

    added_by = relationship("Staff", foreign_keys=[addedfrom])
    assigned_staff = relationship("Staff", foreign_keys=[assigned])
    currency_rel = relationship("Currency")
    estimate = relationship("Estimate", foreign_keys=[estimate_id])
    invoice = relationship("Invoice", foreign_keys=[invoice_id])
    opportunity = relationship("Lead", foreign_keys=[opportunity_id])
    items = itemable_lines("Proposal", "proposal")

    def __str__(self):
        return self.formatted_number or self.subject or f"Proposal #{self.id}"


class EstimateStatus(StatusEnum):
    DRAFT = (1, "Draft", "secondary")
    SENT = (2, "Sent", "info")
    DECLINED = (3, "Declined", "danger")
    ACCEPTED = (4, "Accepted/Invoiced", "success")
    EXPIRED = (5, "Expired", "warning")
    INVOICED = (4, "Accepted/Invoiced", "success")  # alias of ACCEPTED

    @classmethod
    def shown_for(cls, row, code):
        """Code 4 (documented) covers both: a row says which, by its invoice."""
        if code == cls.ACCEPTED.value and row is not None:
            return ("Invoiced", "success") if row.invoiceid else ("Accepted", "success")
        return super().shown_for(row, code)


class Estimate(_BillingShipping, _Acceptance, db.Model):
    """tblestimates, which the seed documents call Sales Orders."""

    __tablename__ = "tblestimates"
    __crm__ = Resource(module="estimates", own=("sale_agent", "addedfrom"),
        label="Sales Orders", category="Sales", url="estimates", aliases=("list_estimates",), lines="items",
        admin={"column_list": ["formatted_number", "clientid", "total", "date", "expirydate", "reference_no",
                               "status", "sale_agent", "invoiceid"],
               "column_searchable_list": ["formatted_number", "reference_no"]},
        action_owned=("status", "prefix", "number_format", "invoiceid", "invoiced_date", "is_expiry_notified"),
        rel_types=("estimate",), party="client", main_actions=("send", "accept", "convert_to_invoice"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sent: Mapped[bool] = mapped_column(Boolean, default=False)
    datesend: Mapped[datetime | None] = mapped_column(DateTime)
    clientid: Mapped[int] = fk("tblclients.userid", nullable=False, ondelete="RESTRICT")
    number: Mapped[int | None] = mapped_column(Integer, index=True)
    prefix: Mapped[str | None] = mapped_column(String(50))
    number_format: Mapped[int] = mapped_column(Integer, default=1)
    formatted_number: Mapped[str | None] = mapped_column(String(100), index=True)
    hash: Mapped[str | None] = mapped_column(String(65), index=True)
    datecreated: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
    date: Mapped[date] = mapped_column(Date, index=True)
    expirydate: Mapped[date | None] = mapped_column(Date, index=True)
    currency: Mapped[int | None] = fk("tblcurrencies.id", ondelete="RESTRICT")
    subtotal: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total_tax: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    adjustment: Mapped[Decimal | None] = mapped_column(MONEY)
    addedfrom: Mapped[int | None] = fk("tblstaff.staffid")
    status: Mapped[int] = status_column(EstimateStatus, default=EstimateStatus.DRAFT.value)
    clientnote: Mapped[str | None] = mapped_column(Text)
    adminnote: Mapped[str | None] = mapped_column(Text)
    discount_percent: Mapped[Decimal] = mapped_column(RATE, default=Decimal("0"))
    discount_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    discount_type: Mapped[str | None] = mapped_column(String(30))  # DISCOUNT_TYPES
    invoiceid: Mapped[int | None] = fk("tblinvoices.id")
    invoiced_date: Mapped[datetime | None] = mapped_column(DateTime, index=True)  # goals: estimates converted
    terms: Mapped[str | None] = mapped_column(Text)
    reference_no: Mapped[str | None] = mapped_column(String(100))
    sale_agent: Mapped[int | None] = fk("tblstaff.staffid")
    show_shipping_on_estimate: Mapped[bool] = mapped_column(Boolean, default=True)
    show_quantity_as: Mapped[int] = mapped_column(Integer, default=1)
    is_expiry_notified: Mapped[bool] = mapped_column(Boolean, default=False)

    client = relationship("Client", foreign_keys=[clientid])
    currency_rel = relationship("Currency")
    added_by = relationship("Staff", foreign_keys=[addedfrom])
    sale_agent_staff = relationship("Staff", foreign_keys=[sale_agent])
    invoice = relationship("Invoice", foreign_keys=[invoiceid])
    items = itemable_lines("Estimate", "estimate")

    def __str__(self):
        return self.formatted_number or f"Sales order #{self.id}"


class InvoiceStatus(StatusEnum):
    DRAFT = (6, "Draft", "secondary")
    UNPAID = (1, "Unpaid", "warning")  # "Not sent" / "Sent" is the ``sent`` flag
    PARTIALLY_PAID = (3, "Partially paid", "info")
    PAID = (2, "Paid", "success")
    OVERDUE = (4, "Overdue", "danger")
    CANCELLED = (5, "Cancelled", "dark")


class Invoice(_BillingShipping, EfacturaInvoice, db.Model):
    __tablename__ = "tblinvoices"
    __crm__ = Resource(module="invoices", own=("sale_agent", "addedfrom"),
        label="Invoices", category="Sales", url="invoices", aliases=("list_invoices",), lines="items",
        admin={"column_list": ["formatted_number", "clientid", "total", "date", "duedate", "status", "sent",
                               "sale_agent", "efactura_status"],
               "column_searchable_list": ["formatted_number", "client.company"]},
        party="client", payments="payments", rel_types=("invoice",),
        main_actions=("issue", "record_payment", "send", "create_delivery_note", "efactura_send", "unmark_cancelled"),
        # The status follows the payments, due date and cancellation (crm/sales/actions/invoices.py).
        action_owned=("status", "prefix", "number_format", "last_overdue_reminder", "last_due_reminder",
                      "is_recurring_from", "last_recurring_date", "total_cycles", *EFACTURA_COLUMNS),
    )

    # The lists people open most: invoices of one status, newest first (bench/README.md).
    # ... and one sale agent's invoices by date, covering what their goals read (status, total, id),
    # so a staff member's income and invoiced-amount goals are index-only scans.
    __table_args__ = (Index("ix_tblinvoices_status_date", "status", "date"),
                      Index("ix_tblinvoices_sale_agent_date", "sale_agent", "date", "status", "total", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sent: Mapped[bool] = mapped_column(Boolean, default=False)
    datesend: Mapped[datetime | None] = mapped_column(DateTime)
    clientid: Mapped[int] = fk("tblclients.userid", nullable=False, ondelete="RESTRICT")
    number: Mapped[int | None] = mapped_column(Integer, index=True)  # NULL while a draft has no number
    prefix: Mapped[str | None] = mapped_column(String(50))
    number_format: Mapped[int] = mapped_column(Integer, default=1)
    formatted_number: Mapped[str | None] = mapped_column(String(100), index=True)
    datecreated: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
    date: Mapped[date] = mapped_column(Date, index=True)
    duedate: Mapped[date | None] = mapped_column(Date, index=True)
    currency: Mapped[int | None] = fk("tblcurrencies.id", ondelete="RESTRICT")
    # Addition: the currency's rate to the base currency when issued (e-Factura reports the VAT
    # of a non-RON invoice in RON at the invoice's rate). NULL: use the currency's current rate.
    exchange_rate: Mapped[Decimal | None] = mapped_column(Numeric(15, 6, asdecimal=True))
    subtotal: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total_tax: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    adjustment: Mapped[Decimal | None] = mapped_column(MONEY)
    addedfrom: Mapped[int | None] = fk("tblstaff.staffid")
    hash: Mapped[str | None] = mapped_column(String(65), index=True)
    status: Mapped[int] = status_column(InvoiceStatus, default=InvoiceStatus.DRAFT.value)
    clientnote: Mapped[str | None] = mapped_column(Text)
    adminnote: Mapped[str | None] = mapped_column(Text)
    last_overdue_reminder: Mapped[date | None] = mapped_column(Date)
    last_due_reminder: Mapped[date | None] = mapped_column(Date)
    cancel_overdue_reminders: Mapped[bool] = mapped_column(Boolean, default=False)
    allowed_payment_modes: Mapped[str | None] = mapped_column(Text, info={"ids_of": "tblpayment_modes"})  # JSON list
    discount_percent: Mapped[Decimal] = mapped_column(RATE, default=Decimal("0"))
    discount_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    discount_type: Mapped[str | None] = mapped_column(String(30))  # DISCOUNT_TYPES
    recurring: Mapped[int] = mapped_column(Integer, default=0)  # every N recurring_type; 0 = not recurring
    recurring_type: Mapped[str | None] = mapped_column(String(10))  # day, week, month, year
    custom_recurring: Mapped[bool] = mapped_column(Boolean, default=False)
    cycles: Mapped[int] = mapped_column(Integer, default=0)  # 0 = infinite
    total_cycles: Mapped[int] = mapped_column(Integer, default=0)
    is_recurring_from: Mapped[int | None] = fk("tblinvoices.id")
    last_recurring_date: Mapped[date | None] = mapped_column(Date)
    terms: Mapped[str | None] = mapped_column(Text)
    sale_agent: Mapped[int | None] = fk("tblstaff.staffid")
    show_shipping_on_invoice: Mapped[bool] = mapped_column(Boolean, default=True)
    show_quantity_as: Mapped[int] = mapped_column(Integer, default=1)
    project_id: Mapped[int | None] = mapped_column(Integer)

    client = relationship("Client", foreign_keys=[clientid])
    currency_rel = relationship("Currency")
    added_by = relationship("Staff", foreign_keys=[addedfrom])
    sale_agent_staff = relationship("Staff", foreign_keys=[sale_agent])
    recurring_from = relationship("Invoice", remote_side=[id], foreign_keys=[is_recurring_from])
    items = itemable_lines("Invoice", "invoice")
    payments = relationship("InvoicePayment", back_populates="invoice", cascade="save-update, merge, delete",
                            passive_deletes=True, order_by="(InvoicePayment.date, InvoicePayment.id)")

    def __str__(self):
        if self.formatted_number:
            return self.formatted_number
        if self.status in (None, InvoiceStatus.DRAFT.value) and self.prefix:
            return f"{self.prefix}DRAFT"
        return f"Invoice #{self.id}"


class ItemLine(db.Model):
    """tblitemable: one line of a proposal, estimate, invoice or credit note."""

    __tablename__ = "tblitemable"
    # What was delivered of a line is counted by approving delivery notes (crm/warehouse), never entered.
    __crm__ = Resource(module="invoices", label="Document lines", action_owned=("wh_delivered_quantity",))
    # A line belongs to one of several parents (Proposal/Estimate/Invoice.items), each with
    # delete-orphan: it is an orphan only when attached to none of them.
    __mapper_args__ = {"legacy_is_orphan": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rel_id: Mapped[int] = mapped_column(Integer)  # id of the document named by rel_type
    rel_type: Mapped[str] = mapped_column(String(20))  # LINE_REL_TYPES
    description: Mapped[str] = mapped_column(String(255))
    long_description: Mapped[str | None] = mapped_column(Text)
    qty: Mapped[Decimal] = mapped_column(QTY, default=Decimal("1"))
    rate: Mapped[Decimal] = mapped_column(UNIT_PRICE, default=Decimal("0"))
    unit: Mapped[str | None] = mapped_column(String(40))
    item_order: Mapped[int] = mapped_column(Integer, default=0)
    is_optional: Mapped[bool] = mapped_column(Boolean, default=False)
    is_selected: Mapped[bool] = mapped_column(Boolean, default=True)
    item_id: Mapped[int | None] = fk("tblitems.id")  # addition: the catalog item (Perfex copies text)
    # Addition: a line discount in percent, taken off qty × rate (e-Factura line AllowanceCharge).
    discount_percent: Mapped[Decimal] = mapped_column(RATE, default=Decimal("0"), server_default="0")
    wh_delivered_quantity: Mapped[Decimal] = mapped_column(  # Warehouse module
        QTY, default=Decimal("0"), info={"written_by": "approving a delivery note of the invoice",
                                        "done_of": "qty", "done": "delivered"})  # crm/core/lines.py

    __table_args__ = (Index("ix_tblitemable_rel_id_rel_type", "rel_id", "rel_type"),)

    item = relationship("Item")
    # selectin: a document's lines come with all their taxes in one more query, not one per line
    taxes = relationship("ItemTax", back_populates="line", cascade="all, delete-orphan",
                         order_by="ItemTax.id", lazy="selectin")

    def __str__(self):
        return self.description


@event.listens_for(Proposal.items, "append")
@event.listens_for(Estimate.items, "append")
@event.listens_for(Invoice.items, "append")
def _line_joins_document(document, line, initiator):
    """A line appended to ``document.items`` takes that relationship's rel_type."""
    line.rel_type = inspect(document).mapper.relationships["items"].info["rel_type"]


class ItemTax(db.Model):
    """tblitem_tax: a tax applied to one line (name and rate copied from tbltaxes)."""

    __tablename__ = "tblitem_tax"
    __crm__ = Resource(module="invoices", label="Line taxes")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    itemid: Mapped[int] = fk("tblitemable.id", nullable=False)  # ON DELETE CASCADE
    # The line's document, copied from the line at insert (see _tax_follows_line).
    rel_id: Mapped[int] = mapped_column(Integer)
    rel_type: Mapped[str] = mapped_column(String(20))
    taxrate: Mapped[Decimal] = mapped_column(RATE)
    taxname: Mapped[str] = mapped_column(String(100))

    __table_args__ = (Index("ix_tblitem_tax_rel_id_rel_type", "rel_id", "rel_type"),)

    line = relationship(ItemLine, back_populates="taxes")

    def __str__(self):
        return tax_label(self.taxname, self.taxrate)


@event.listens_for(ItemTax, "before_insert")
def _tax_follows_line(mapper, connection, tax):
    """Fill rel_id/rel_type from the line; the line (and its document) is inserted first."""
    line = inspect(tax).attrs.line.loaded_value  # never lazy-load inside a flush
    if isinstance(line, ItemLine):
        if tax.rel_id is None:
            tax.rel_id = line.rel_id
        if tax.rel_type is None:
            tax.rel_type = line.rel_type


class InvoicePayment(db.Model):
    """tblinvoicepaymentrecords (the seeds write "tblinvoicepayments")."""

    __tablename__ = "tblinvoicepaymentrecords"
    __crm__ = Resource(module="payments", own=("invoice.sale_agent",),
        # Recorded by record_payment / apply_advance / online payments, undone by reverse_payment.
        label="Payments", category="Finance", url="payments", readonly=True,
        admin={"column_list": ["invoiceid", "amount", "paymentmode", "date", "transactionid", "daterecorded"],
               "column_searchable_list": ["transactionid"]},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoiceid: Mapped[int] = fk("tblinvoices.id", nullable=False, ondelete="RESTRICT")
    amount: Mapped[Decimal] = mapped_column(MONEY)
    paymentmode: Mapped[str | None] = mapped_column(String(40))  # tblpayment_modes.id, or a gateway name
    paymentmethod: Mapped[str | None] = mapped_column(String(191))
    date: Mapped[date] = mapped_column(Date, index=True)
    daterecorded: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
    note: Mapped[str | None] = mapped_column(Text)
    transactionid: Mapped[str | None] = mapped_column(String(191), index=True)
    # Addition: set when the payment is (part of) a client's advance applied to this invoice.
    advance_payment_id: Mapped[int | None] = fk("tblclient_advance_payments.id", ondelete="RESTRICT")

    invoice = relationship(Invoice, back_populates="payments")
    advance = relationship("ClientAdvancePayment")

    def __str__(self):
        return f"Payment #{self.id}"


class ContractType(db.Model):
    __tablename__ = "tblcontracts_types"
    __crm__ = Resource(module="settings", label="Contract types", category="Settings", url="contracts/types")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(191))

    def __str__(self):
        return self.name


class ContractStatus(db.Model):
    """Seed addition: admin-defined contract statuses (Draft, Active, Expired, Terminated...)."""

    __tablename__ = "tblcontract_statuses"
    __crm__ = Resource(module="settings", label="Contract statuses", category="Settings", url="contracts/statuses")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(150))
    color: Mapped[str] = mapped_column(String(10), default="#28B8DA")
    statusorder: Mapped[int] = mapped_column(Integer, default=0)
    isdefault: Mapped[bool] = mapped_column(Boolean, default=False)

    def __str__(self):
        return self.name


class Contract(_Acceptance, db.Model):
    __tablename__ = "tblcontracts"
    __crm__ = Resource(module="contracts", own=("addedfrom",),
        label="Contracts", category="Sales", url="contracts",
        admin={"column_list": ["subject", "client", "contract_type", "contract_value", "datestart", "dateend",
                               "status", "signed"],
               "column_searchable_list": ["subject"]},
        action_owned=("isexpirynotified", "proposal_id"), rel_types=("contract",),
        document=True, party="client_rel", main_actions=("send_for_signature", "mark_signed"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(191))
    client: Mapped[int] = fk("tblclients.userid", nullable=False, ondelete="RESTRICT")
    datestart: Mapped[date | None] = mapped_column(Date, index=True)
    dateend: Mapped[date | None] = mapped_column(Date, index=True)
    contract_type: Mapped[int | None] = fk("tblcontracts_types.id")
    status: Mapped[int | None] = fk("tblcontract_statuses.id", ondelete="RESTRICT")  # seed addition
    addedfrom: Mapped[int | None] = fk("tblstaff.staffid")
    dateadded: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)
    isexpirynotified: Mapped[bool] = mapped_column(Boolean, default=False)
    contract_value: Mapped[Decimal | None] = mapped_column(MONEY)
    trash: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    not_visible_to_client: Mapped[bool] = mapped_column(Boolean, default=False)
    hash: Mapped[str | None] = mapped_column(String(65), index=True)
    signed: Mapped[bool] = mapped_column(Boolean, default=False)
    marked_as_signed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Seed addition: the accepted proposal it was created from.
    proposal_id: Mapped[int | None] = fk("tblproposals.id")

    client_rel = relationship("Client", foreign_keys=[client])
    contract_type_rel = relationship(ContractType)
    status_rel = relationship(ContractStatus)
    added_by = relationship("Staff", foreign_keys=[addedfrom])
    proposal = relationship(Proposal)

    def __str__(self):
        return self.subject


class GoalType(StatusEnum):
    TOTAL_INCOME = (1, "Total income", "success")  # sum of payments by payment date
    CONVERTED_LEADS = (2, "Converted leads", "info")
    NEW_CUSTOMERS_NOT_FROM_LEADS = (3, "New customers not from leads", "primary")
    ALL_NEW_CUSTOMERS = (4, "All new customers", "primary")
    CONTRACTS_BY_TYPE_DATEADDED = (5, "Contracts by type (date added)", "secondary")
    ESTIMATES_CONVERTED = (6, "Estimates converted to invoices", "info")
    CONTRACTS_BY_TYPE_DATESTART = (7, "Contracts by type (start date)", "secondary")
    INVOICED_AMOUNT = (8, "Invoiced amount", "success")


CONTRACT_GOAL_TYPES = (GoalType.CONTRACTS_BY_TYPE_DATEADDED.value, GoalType.CONTRACTS_BY_TYPE_DATESTART.value)


class Goal(db.Model):
    """tblgoals: progress = total x 100 / achievement, capped at 100."""

    __tablename__ = "tblgoals"
    # progress: the current total and percent, computed (crm.sales.goals), read-only in the API
    __crm__ = Resource(module="goals", own=("staff_id",),
        label="Goals", category="Sales", url="goals")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(191))
    description: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date] = mapped_column(Date, index=True)
    end_date: Mapped[date] = mapped_column(Date, index=True)
    goal_type: Mapped[int] = status_column(GoalType, default=GoalType.TOTAL_INCOME.value)
    contract_type: Mapped[int | None] = fk("tblcontracts_types.id")  # goal types 5 and 7
    achievement: Mapped[Decimal] = mapped_column(MONEY)  # the target
    notify_when_fail: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_when_achieve: Mapped[bool] = mapped_column(Boolean, default=True)
    notified: Mapped[bool] = mapped_column(Boolean, default=False)
    # 0 = company-wide; otherwise a tblstaff.staffid. Plain int: 0 is not a staff row.
    staff_id: Mapped[int] = mapped_column(Integer, default=0, index=True)

    contract_type_rel = relationship(ContractType)

    def __str__(self):
        return self.subject



@event.listens_for(Goal, "before_insert")
@event.listens_for(Goal, "before_update")
def _goal_counts_something(mapper, connection, goal):
    """Contract goals count the contracts of one type: without the type they would count nothing."""
    if goal.goal_type in CONTRACT_GOAL_TYPES and goal.contract_type is None:
        raise FieldError("contract_type", f"a “{GoalType.label_of(goal.goal_type)}” goal needs the contract type "
                                          "it counts.")