"""Daily roll-ups of invoices and payments that the sales reports read instead of the raw tables.

One row per day and key: count and amount in the invoice's currency. The conversion to the base
currency is left to the report (amount × the rate, as for a single invoice), so a currency's rate
or the base currency can change without rebuilding anything. ``rate`` is the invoice's own rate
(NULL when it has none or 0). Kept up to date by crm/reports/rollup.py: every commit writes what it
moves (tblreport_pending), folded into these rows by a job; the reports read both."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.extensions import db
from crm.core.models.base import Resource, status_column
from crm.sales.models.documents import InvoiceStatus

TOTAL = Numeric(20, 2, asdecimal=True)  # sums of MONEY columns


class _Sums:
    """Invoices or payments counted and summed per currency, own rate and the invoice's status."""
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    currency: Mapped[int | None] = mapped_column(Integer)
    rate: Mapped[Decimal | None] = mapped_column(Numeric(15, 6, asdecimal=True))
    status: Mapped[int] = status_column(InvoiceStatus)  # the invoice's
    count: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(TOTAL)


class _ItemSums:
    """Invoiced lines counted and summed per currency, own rate and catalog item (or description)."""
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    currency: Mapped[int | None] = mapped_column(Integer)
    rate: Mapped[Decimal | None] = mapped_column(Numeric(15, 6, asdecimal=True))
    item_id: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(String(255))
    lines: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[Decimal] = mapped_column(Numeric(20, 3, asdecimal=True))
    net: Mapped[Decimal] = mapped_column(Numeric(38, 10, asdecimal=True))  # exact: qty × price × (100 − %) / 100


class _Day(_Sums):
    day: Mapped[date] = mapped_column(Date)


def covering(key: str) -> tuple:
    """The day index holds every column a report reads, so a period is an index-only scan."""
    return ("day", "status", key, "currency", "rate", "count", "amount")


def _resource(label):
    return Resource(module="reports", label=label, readonly=True)  # written only by crm/reports/rollup.py


class ReportInvoiceDay(_Day, db.Model):
    """Invoices by invoice date, currency, own rate, status and sale agent: count, sum of totals."""

    __tablename__ = "tblreport_invoice_day"
    __crm__ = _resource("Invoices per day and sale agent")
    __table_args__ = (Index("ix_tblreport_invoice_day_day", *covering("sale_agent")),)
    sale_agent: Mapped[int | None] = mapped_column(Integer)


class ReportInvoiceClientDay(_Day, db.Model):
    """Invoices by invoice date, currency, own rate, status and client."""

    __tablename__ = "tblreport_invoice_client_day"
    __crm__ = _resource("Invoices per day and client")
    __table_args__ = (Index("ix_tblreport_invoice_client_day_day", *covering("clientid")),)
    clientid: Mapped[int | None] = mapped_column(Integer)


class ReportPaymentDay(_Day, db.Model):
    """Payments by payment date and their invoice's currency, own rate, status and sale agent."""

    __tablename__ = "tblreport_payment_day"
    __crm__ = _resource("Payments per day and sale agent")
    __table_args__ = (Index("ix_tblreport_payment_day_day", *covering("sale_agent")),)
    sale_agent: Mapped[int | None] = mapped_column(Integer)


class ReportPaymentClientDay(_Day, db.Model):
    """Payments by payment date and their invoice's currency, own rate, status and client."""

    __tablename__ = "tblreport_payment_client_day"
    __crm__ = _resource("Payments per day and client")
    __table_args__ = (Index("ix_tblreport_payment_client_day_day", *covering("clientid")),
                      # the payments of the top clients only (by_client's second query)
                      Index("ix_tblreport_payment_client_day_client", "clientid", "day", "currency", "rate", "count",
                            "amount"))
    clientid: Mapped[int | None] = mapped_column(Integer)


class ReportItemDay(_ItemSums, db.Model):
    """Lines of invoiced invoices (Unpaid, Partially paid, Paid, Overdue; optional lines only when
    selected) by invoice date, currency, own rate and catalog item (``text``: the description of a
    line without one): lines, quantity, net amount (qty × price less the line discount)."""

    __tablename__ = "tblreport_item_day"
    __crm__ = _resource("Invoiced items per day")
    __table_args__ = (Index("ix_tblreport_item_day_day", "day", "item_id", "text", "currency", "rate", "lines",
                            "quantity", "net"),)
    day: Mapped[date] = mapped_column(Date)


# --- moves not yet folded into the daily roll-ups --------------------------------------------
# A commit writes what it moves as rows here (one INSERT, no roll-up row read or locked), instead of
# updating the roll-up rows itself; crm/reports/rollup.py folds them into the daily roll-ups (the
# job fold_report_rollups) and the reports read the daily rows together with these (``current``),
# so a figure is right before and after a fold.


class ReportPending(db.Model):
    """A move of one daily roll-up row (``rollup``: its table) not yet folded into it: the row's
    key and the figures to add (negative to take away). Columns named as the roll-ups' own."""

    __tablename__ = "tblreport_pending"
    __crm__ = _resource("Report roll-up moves not yet folded")
    __table_args__ = (Index("ix_tblreport_pending_rollup_day", "rollup", "day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rollup: Mapped[str] = mapped_column(String(40))
    day: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[int | None] = mapped_column(Integer)
    rate: Mapped[Decimal | None] = mapped_column(Numeric(15, 6, asdecimal=True))
    status: Mapped[int | None] = status_column(InvoiceStatus, nullable=True)
    sale_agent: Mapped[int | None] = mapped_column(Integer)
    clientid: Mapped[int | None] = mapped_column(Integer)
    item_id: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(String(255))
    count: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[Decimal | None] = mapped_column(TOTAL)
    lines: Mapped[int | None] = mapped_column(Integer)
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(20, 3, asdecimal=True))
    net: Mapped[Decimal | None] = mapped_column(Numeric(38, 10, asdecimal=True))


# --- monthly roll-ups of the large keys -------------------------------------------------------
# A client or an item breakdown over a year reads almost as many daily rows as raw ones (thousands
# of clients and items, each on a few days). For whole months it reads these instead: the daily
# rows summed per month. They are a cache of finished months: a month's rows count only while the
# month is in tblreport_month; a fold moving a day of a finished month takes the month out of
# it (its days are read instead) until the job build_report_months sums it again.


class ReportMonth(db.Model):
    """A finished month whose monthly roll-up rows are complete."""

    __tablename__ = "tblreport_month"
    __crm__ = _resource("Months with monthly report roll-ups")
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[date] = mapped_column(Date, unique=True)  # the first day
    last_day: Mapped[date] = mapped_column(Date)


class _Month(_Sums):
    month: Mapped[date] = mapped_column(Date)  # the first day
    clientid: Mapped[int | None] = mapped_column(Integer)


class ReportInvoiceClientMonth(_Month, db.Model):
    """tblreport_invoice_client_day summed per month."""

    __tablename__ = "tblreport_invoice_client_month"
    __crm__ = _resource("Invoices per month and client")
    __table_args__ = (Index("ix_tblreport_invoice_client_month_month", "month", "status", "clientid", "currency",
                            "rate", "count", "amount"),)


class ReportPaymentClientMonth(_Month, db.Model):
    """tblreport_payment_client_day summed per month."""

    __tablename__ = "tblreport_payment_client_month"
    __crm__ = _resource("Payments per month and client")
    __table_args__ = (Index("ix_tblreport_payment_client_month_month", "month", "status", "clientid", "currency",
                            "rate", "count", "amount"),
                      Index("ix_tblreport_payment_client_month_client", "clientid", "month", "currency", "rate",
                            "count", "amount"))


class ReportItemMonth(_ItemSums, db.Model):
    """tblreport_item_day summed per month."""

    __tablename__ = "tblreport_item_month"
    __crm__ = _resource("Invoiced items per month")
    __table_args__ = (Index("ix_tblreport_item_month_month", "month", "item_id", "text", "currency", "rate", "lines",
                            "quantity", "net"),)
    month: Mapped[date] = mapped_column(Date)  # the first day


__all__ = ["ReportInvoiceDay", "ReportInvoiceClientDay", "ReportPaymentDay", "ReportPaymentClientDay",
           "ReportItemDay", "ReportPending", "ReportMonth", "ReportInvoiceClientMonth", "ReportPaymentClientMonth",
           "ReportItemMonth"]

from crm.reports import rollup as _keeps_them_up_to_date  # noqa: F401  (its session hooks keep the tables up to date)
