"""Money received outside an invoice: advance payments kept on a client's account, and the
payment-gateway events (Stripe) that recorded invoice payments.

An advance is applied to an invoice as ordinary tblinvoicepaymentrecords rows whose
``advance_payment_id`` points back here, so the invoice status rule stays in one place; what is
left of an advance is its amount minus those rows.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.extensions import db
from crm.core.models.base import MONEY, Resource, StatusEnum, fk, status_column

__all__ = ["ClientAdvancePayment", "GatewayEventStatus", "PaymentGatewayEvent"]


class ClientAdvancePayment(db.Model):
    """tblclient_advance_payments: money a client paid before there was an invoice for it."""

    __tablename__ = "tblclient_advance_payments"
    __crm__ = Resource(module="payments", own=("staffid",),
        label="Advance payments", category="Finance", url="payments/advances", readonly=True,
        admin={"column_list": ["clientid", "amount", "currency", "date", "paymentmode", "transactionid", "staffid",
                               "daterecorded"],
               "column_searchable_list": ["transactionid", "note"]},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clientid: Mapped[int] = fk("tblclients.userid", nullable=False, ondelete="RESTRICT")
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[int] = fk("tblcurrencies.id", nullable=False, ondelete="RESTRICT")
    date: Mapped[date] = mapped_column(Date, index=True)
    paymentmode: Mapped[int | None] = fk("tblpayment_modes.id")
    transactionid: Mapped[str | None] = mapped_column(String(191), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    staffid: Mapped[int | None] = fk("tblstaff.staffid")  # who recorded it
    daterecorded: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)

    client = relationship("Client")
    currency_rel = relationship("Currency")
    mode = relationship("PaymentMode")
    staff = relationship("Staff")

    def __str__(self):
        return f"Advance payment #{self.id}"


class GatewayEventStatus(StatusEnum):
    RECORDED = ("recorded", "Payment recorded", "success")
    REFUSED = ("refused", "Refused (see note)", "danger")


class PaymentGatewayEvent(db.Model):
    """tblpayment_gateway_events: each gateway payment we acted on, once.

    Unique on (gateway, event_id) and on (gateway, reference) — the payment intent — so a
    redelivered event or a second event about the same payment never records it twice, even
    when two deliveries arrive at the same moment (the second insert fails).
    """

    __tablename__ = "tblpayment_gateway_events"
    __crm__ = Resource(module="payments",
        label="Online payments", category="Finance", url="payments/online", readonly=True,
        admin={"column_list": ["gateway", "event_id", "reference", "invoiceid", "amount", "status", "note",
                               "dateadded"],
               "column_searchable_list": ["event_id", "reference"]},
    )
    __table_args__ = (UniqueConstraint("gateway", "event_id"), UniqueConstraint("gateway", "reference"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gateway: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(191))
    reference: Mapped[str] = mapped_column(String(191))  # the payment intent (else the checkout session)
    invoiceid: Mapped[int | None] = fk("tblinvoices.id")
    paymentid: Mapped[int | None] = fk("tblinvoicepaymentrecords.id")
    amount: Mapped[Decimal | None] = mapped_column(MONEY)
    status: Mapped[str] = status_column(GatewayEventStatus)
    note: Mapped[str | None] = mapped_column(Text)
    dateadded: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)

    invoice = relationship("Invoice")
    payment = relationship("InvoicePayment")

    def __str__(self):
        return f"{self.gateway} {self.reference}"
