"""The admin home: per role, the figures a person needs first, each linking to the list behind it.

A panel is shown to whoever holds its permissions (``needs``), so the roles of crm.core.auth map onto
them without naming roles, and an administrator sees all:

- leads.create (SDR, Sales Agent, Sales Manager): my new leads, my follow-ups due today, my goals;
- action:proposals.send (Sales Agent, Sales Manager): my open opportunities, my proposals awaiting
  the client;
- leads.view, view all (Sales Manager): the team's pipeline and goals;
- deliveries.edit (Warehouse): stock below minimum, blocked delivery notes, packing lists awaiting AWB;
- purchases.create (Purchasing): purchase orders awaiting delivery, open RFQs, quotations to
  compare, items below minimum;
- payments.view (Finance, Sales Manager): overdue invoices, unpaid vendor invoices, e-Factura
  problems, payments today.

Each panel is one aggregate SQL query (the goals panels: the goals, then their totals in one query),
on indexed columns; amounts are summed per currency, never across currencies.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Callable

from flask import current_app, url_for
from sqlalchemy import and_, func, select

from crm import models
from crm.catalog.models import Currency
from crm.core.extensions import db
from crm.core.models.base import money
from crm.core.models.settings import Staff
from crm.core.options import get
from crm.core.permissions import can, module_of
from crm.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderDeliveryStatus as D,
    PurchaseOrderStatus,
    PurchaseQuotation,
    PurchaseQuotationStatus,
    PurchaseRequest,
    PurchaseRequestStatus as S,
    VendorInvoice,
    VendorInvoicePaymentStatus as P,
)
from crm.reports.models import ReportInvoiceDay, ReportPaymentDay
from crm.reports.rollup import current, settle
from crm.sales import goals
from crm.sales.models.clients import Lead, Reminder
from crm.sales.models.documents import Goal, Invoice, InvoiceStatus, Proposal, ProposalStatus
from crm.sales.models.efactura import EfacturaStatus as E
from crm.shipping.actions import LIVE
from crm.warehouse.models import GoodsDelivery, PackingList, PackingListStatus, Shipment, WarehouseApproval

NEW_LEAD_DAYS = 7  # "new" leads: added in the last week


@dataclass
class Figure:
    label: str
    count: int
    url: str
    amounts: list[tuple[Decimal, str]] = field(default_factory=list)  # (amount, currency), per currency
    note: str = ""


@dataclass
class Panel:
    key: str
    title: str
    section: str
    needs: tuple[str, ...]
    compute: Callable  # (staff, today) -> list[Figure] or list of goal rows
    kind: str = "figures"  # or "goals"
    hint: str = ""


# --- links: the generated list, filtered as the figure was counted ------------------------------

def _view(endpoint):
    for view in current_app.extensions["admin"][0]._views:
        if view.endpoint == endpoint:
            return view
    raise KeyError(endpoint)


def list_url(endpoint: str, filters=(), **equals) -> str:
    """``/admin/<list>/?col=value`` (a list value: any of them) plus Flask-Admin filters given as
    (column, filter class name, value), e.g. ("date", "DateEqualFilter", "2026-11-23")."""
    args = dict(equals)
    if filters:
        view = _view(endpoint)
        for pos, (column, op, value) in enumerate(filters):
            arg = next(a for a, (_, flt) in view._filter_args.items()
                       if type(flt).__name__ == op and getattr(flt.column, "key", None) == column)
            args[f"flt{pos}_{arg}"] = value
    return url_for(f"{endpoint}.index_view", **args)


def _day(d: date) -> tuple[datetime, datetime]:
    return datetime.combine(d, time.min), datetime.combine(d + timedelta(days=1), time.min)


def _amounts(rows) -> list[tuple[Decimal, str]]:
    return [(money(v), cur or "") for cur, v in rows if v is not None]


# --- sales ------------------------------------------------------------------------------------------

def my_new_leads(staff, today):
    since = datetime.combine(today - timedelta(days=NEW_LEAD_DAYS), time.min)
    n = db.session.execute(select(func.count(Lead.id)).where(
        Lead.assigned == staff.staffid, Lead.is_opportunity.is_(False), Lead.lost.is_(False), Lead.junk.is_(False),
        Lead.dateadded >= since)).scalar()
    return [Figure(f"Assigned to me, last {NEW_LEAD_DAYS} days", n, list_url(
        "leads", [("dateadded", "DateTimeGreaterFilter", f"{since:%Y-%m-%d %H:%M:%S}")],
        assigned=staff.staffid, lost=0, junk=0))]


def my_follow_ups(staff, today):
    start, end = _day(today)
    counts = {bool(k): n for k, n in db.session.execute(
        select(Reminder.isnotified, func.count(Reminder.id))
        .where(Reminder.staff == staff.staffid, Reminder.date >= start, Reminder.date < end)
        .group_by(Reminder.isnotified)).all()}
    open_, done = counts.get(False, 0), counts.get(True, 0)
    last = end - timedelta(seconds=1)
    between = [("date", "DateTimeBetweenFilter", f"{start:%Y-%m-%d %H:%M:%S} to {last:%Y-%m-%d %H:%M:%S}")]
    return [Figure("Due today, not yet reminded", open_,
                   list_url("reminders", between, staff=staff.staffid, isnotified=0)),
            Figure("Due today, reminded", done, list_url("reminders", between, staff=staff.staffid, isnotified=1))]


def _pipeline(assigned=None):
    # cycle: admin_views -> admin_views.home -> dashboard
    from crm.sales.views.weighted_pipeline import open_opportunities, weighted

    q = open_opportunities()
    if assigned is not None:
        q = q.filter(Lead.assigned == assigned)
    return q, func.sum(func.coalesce(Lead.lead_value, 0)), weighted()


def my_opportunities(staff, today):
    q, value, weighted = _pipeline(staff.staffid)
    n, v, w = q.with_entities(func.count(Lead.id), value, weighted).one()
    cur = get("base_currency")
    return [Figure("Open opportunities (value)", n, list_url("opportunities", assigned=staff.staffid, lost=0, junk=0),
                   [(money(v or 0), cur)], note=f"weighted {money(w or 0):,.2f} {cur}")]


# Proposals still with the client: sent (by email or by hand) or opened in the portal.
AWAITING_CLIENT = (ProposalStatus.SENT.value, ProposalStatus.OPEN.value, ProposalStatus.SENT_MANUALLY.value)


def my_proposals(staff, today):
    rows = db.session.execute(
        select(Currency.name, func.count(Proposal.id), func.sum(Proposal.total))
        .outerjoin(Currency, Currency.id == Proposal.currency)
        .where(Proposal.assigned == staff.staffid, Proposal.status.in_(AWAITING_CLIENT))
        .group_by(Currency.name).order_by(Currency.name)).all()
    return [Figure("Sent, not yet accepted or declined", sum(r[1] for r in rows),
                   list_url("proposals", assigned=staff.staffid, status=list(AWAITING_CLIENT)),
                   _amounts((r[0], r[2]) for r in rows))]


def _current_goals(staff_id=None, today=None):
    q = db.session.query(Goal).filter(Goal.start_date <= today, Goal.end_date >= today)
    if staff_id is not None:
        q = q.filter(Goal.staff_id == staff_id)
    rows = q.order_by(Goal.end_date, Goal.id).all()
    found = goals.progress(rows)
    return [{"goal": g, "progress": found[g.id], "money": goals.is_money(g)} for g in rows]


def my_goals(staff, today):
    return _current_goals(staff.staffid, today)


def team_goals(staff, today):
    return _current_goals(None, today)


def team_pipeline(staff, today):
    q, value, weighted = _pipeline()
    rows = (q.outerjoin(Staff, Staff.staffid == Lead.assigned)
            .with_entities(Lead.assigned, Staff.firstname, Staff.lastname, func.count(Lead.id), value, weighted)
            .group_by(Lead.assigned, Staff.firstname, Staff.lastname).order_by(value.desc()).all())
    cur = get("base_currency")
    return [Figure(f"{first or ''} {last or ''}".strip() if sid else "Unassigned", n,
                   list_url("opportunities", lost=0, junk=0, **({"assigned": sid} if sid else {})),
                   [(money(v or 0), cur)], note=f"weighted {money(w or 0):,.2f} {cur}")
            for sid, first, last, n, v, w in rows]


# --- warehouse and purchasing -------------------------------------------------------------------------

def stock_below_minimum(staff, today):
    from crm.warehouse.views.stock_reports import (
        stock_vs_minimum,  # cycle: admin_views -> admin_views.home -> dashboard
    )

    total, _ = stock_vs_minimum(below_only=True, page=1, page_size=1)  # the count comes with the first row
    return [Figure("Items below their minimum stock", total, url_for("stock_reports.minimum"))]


def blocked_deliveries(staff, today):
    n = db.session.execute(select(func.count(GoodsDelivery.id)).where(
        GoodsDelivery.approval == WarehouseApproval.DRAFT.value, GoodsDelivery.flag_export_warehouse == 0)).scalar()
    return [Figure("Draft delivery notes short of stock", n,
                   list_url("goods_delivery", approval=WarehouseApproval.DRAFT.value, flag_export_warehouse=0))]


def packing_lists_awaiting_awb(staff, today):
    ready = and_(PackingList.approval == WarehouseApproval.APPROVED.value,
                 PackingList.delivery_status == PackingListStatus.READY_TO_DELIVER.value)
    booked = select(Shipment.id).where(Shipment.packing_list_id == PackingList.id, Shipment.status.in_(LIVE)).exists()
    n = db.session.execute(select(func.count(PackingList.id)).where(ready, ~booked)).scalar()
    return [Figure("Approved, ready to deliver, no AWB booked", n,
                   list_url("wh_packing_lists", approval=WarehouseApproval.APPROVED.value,
                            delivery_status=PackingListStatus.READY_TO_DELIVER.value))]


def undelivered_orders(staff, today):
    waiting = [D.NOT_DELIVERED.value, D.PENDING.value, D.PARTIALLY_DELIVERED.value]
    rows = db.session.execute(
        select(PurchaseOrder.delivery_status, Currency.name, func.count(PurchaseOrder.id),
               func.sum(PurchaseOrder.total))
        .outerjoin(Currency, Currency.id == PurchaseOrder.currency)
        .where(PurchaseOrder.status == PurchaseOrderStatus.APPROVED.value, PurchaseOrder.delivery_status.in_(waiting))
        .group_by(PurchaseOrder.delivery_status, Currency.name)).all()
    return [Figure(D.label_of(code), sum(r[2] for r in rows if r[0] == code),
                   list_url("pur_orders", status=PurchaseOrderStatus.APPROVED.value, delivery_status=code),
                   _amounts((r[1], r[3]) for r in rows if r[0] == code))
            for code in waiting]


def open_rfqs(staff, today):
    open_codes = [S.DRAFT.value, S.APPROVED.value]
    counts = dict(db.session.execute(select(PurchaseRequest.status, func.count(PurchaseRequest.id))
                                     .where(PurchaseRequest.status.in_(open_codes))
                                     .group_by(PurchaseRequest.status)).all())
    labels = {S.DRAFT.value: "Draft", S.APPROVED.value: "Sent to vendors"}
    return [Figure(labels[c], counts.get(c, 0), list_url("pur_request", status=c)) for c in open_codes]


def quotations_to_compare(staff, today):
    n, rfqs = db.session.execute(select(func.count(PurchaseQuotation.id),
                                        func.count(PurchaseQuotation.pur_request.distinct()))
                                 .where(PurchaseQuotation.status == PurchaseQuotationStatus.PENDING.value)).one()
    return [Figure("Pending vendor quotations", n,
                   list_url("pur_estimates", status=PurchaseQuotationStatus.PENDING.value),
                   note=f"answering {rfqs} RFQ(s)")]


# --- finance ---------------------------------------------------------------------------------------------

def overdue_invoices(staff, today):
    settle(db.session)  # the daily roll-ups (crm/reports/rollup.py), with this session's changes
    R = current(ReportInvoiceDay)  # noqa: N806
    rows = db.session.execute(
        select(Currency.name, func.sum(R.count), func.sum(R.amount)).outerjoin(Currency, Currency.id == R.currency)
        .where(R.status == InvoiceStatus.OVERDUE.value).group_by(Currency.name).order_by(Currency.name)).all()
    return [Figure("Overdue (past due, nothing paid)", sum(int(r[1] or 0) for r in rows),
                   list_url("invoices", status=InvoiceStatus.OVERDUE.value), _amounts((r[0], r[2]) for r in rows))]


def unpaid_vendor_invoices(staff, today):
    codes = [P.UNPAID.value, P.PARTIALLY_PAID.value]
    rows = db.session.execute(
        select(VendorInvoice.payment_status, Currency.name, func.count(VendorInvoice.id), func.sum(VendorInvoice.total))
        .outerjoin(Currency, Currency.id == VendorInvoice.currency)
        .where(VendorInvoice.payment_status.in_(codes)).group_by(VendorInvoice.payment_status, Currency.name)).all()
    return [Figure(P.label_of(code), sum(r[2] for r in rows if r[0] == code),
                   list_url("pur_invoices", payment_status=code), _amounts((r[1], r[3]) for r in rows if r[0] == code))
            for code in codes]


def efactura_problems(staff, today):
    codes = [E.REJECTED.value, E.SEND_FAILED.value, E.UNCERTAIN.value]
    counts = dict(db.session.execute(select(Invoice.efactura_status, func.count(Invoice.id))
                                     .where(Invoice.efactura_status.in_(codes)).group_by(Invoice.efactura_status)).all())
    return [Figure(E.label_of(c), counts.get(c, 0), list_url("invoices", efactura_status=c)) for c in codes]


def payments_today(staff, today):
    settle(db.session)
    R = current(ReportPaymentDay)  # noqa: N806
    rows = db.session.execute(
        select(Currency.name, func.sum(R.count), func.sum(R.amount)).outerjoin(Currency, Currency.id == R.currency)
        .where(R.day == today).group_by(Currency.name).order_by(Currency.name)).all()
    return [Figure("Payments dated today", sum(int(r[1] or 0) for r in rows),
                   list_url("invoicepaymentrecords", [("date", "DateEqualFilter", f"{today:%Y-%m-%d}")]),
                   _amounts((r[0], r[2]) for r in rows))]


# --- who sees what ----------------------------------------------------------------------------------------

def table(model_name: str, verb: str) -> str:
    return f"{module_of(getattr(models, model_name))}.{verb}"


def panels() -> list[Panel]:
    sales, agent, manager = (table("Lead", "create"),), ("action:proposals.send",), (table("Lead", "view"),)
    warehouse, purchasing = (table("GoodsDelivery", "edit"),), (table("PurchaseOrder", "create"),)
    finance = (table("InvoicePayment", "view"),)
    return [
        Panel("new_leads", "My new leads", "Leads", sales, my_new_leads),
        Panel("follow_ups", "My follow-ups today", "Leads", sales, my_follow_ups),
        Panel("my_goals", "My goals", "Leads", sales, my_goals, kind="goals"),
        Panel("my_opportunities", "My open opportunities", "My sales", agent, my_opportunities),
        Panel("my_proposals", "My proposals awaiting the client", "My sales", agent, my_proposals),
        Panel("team_pipeline", "Team pipeline (open opportunities)", "Team", manager, team_pipeline),
        Panel("team_goals", "Current goals", "Team", manager, team_goals, kind="goals"),
        Panel("stock_minimum", "Stock below minimum", "Warehouse", warehouse, stock_below_minimum),
        Panel("blocked_deliveries", "Blocked delivery notes", "Warehouse", warehouse, blocked_deliveries),
        Panel("awaiting_awb", "Packing lists awaiting AWB", "Warehouse", warehouse, packing_lists_awaiting_awb),
        Panel("undelivered_orders", "Purchase orders awaiting delivery", "Purchasing", purchasing, undelivered_orders),
        Panel("open_rfqs", "Open requests for quotation", "Purchasing", purchasing, open_rfqs),
        Panel("quotations", "Quotations to compare", "Purchasing", purchasing, quotations_to_compare),
        Panel("purchase_minimum", "Items below minimum", "Purchasing", purchasing, stock_below_minimum),
        Panel("overdue_invoices", "Overdue invoices", "Finance", finance, overdue_invoices),
        Panel("vendor_invoices", "Unpaid vendor invoices", "Finance", finance, unpaid_vendor_invoices),
        Panel("efactura", "e-Factura problems", "Finance", finance, efactura_problems),
        Panel("payments_today", "Payments today", "Finance", finance, payments_today),
    ]


def visible(staff) -> list[Panel]:
    return [p for p in panels() if all(can(staff, perm) for perm in p.needs)]


def dashboard(staff, today: date | None = None) -> list[tuple[str, list[tuple[Panel, list]]]]:
    """The panels ``staff`` may see, computed, grouped by section in order; a figure shared by two
    sections (items below minimum) is counted once."""
    today = today or date.today()
    sections: dict[str, list] = {}
    done: dict[Callable, list] = {}
    for panel in visible(staff):
        if panel.compute not in done:
            done[panel.compute] = panel.compute(staff, today)
        elif panel.compute is stock_below_minimum:
            continue  # already shown under Warehouse
        sections.setdefault(panel.section, []).append((panel, done[panel.compute]))
    return list(sections.items())
