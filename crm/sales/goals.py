"""Goal arithmetic (tblgoals): what each goal type counts, and how far along a goal is.

A goal's total is what happened between its start and end date (both included), for its staff
member or, with staff_id 0, for the whole company:

1 total income      sum of payments by payment date; a staff member's: payments on invoices
                    where they are the sale agent.
2 converted leads   leads that became a customer (a tblclients row has leadid = the lead), by the
                    lead's date_converted; a staff member's: leads assigned to them (or, when
                    unassigned, added by them). Converting to an opportunity is not converting.
3 new customers not from leads   tblclients created in the period with no leadid; by addedfrom.
4 all new customers tblclients created in the period; by addedfrom.
5 / 7 contracts     contracts of the goal's contract type, not in the trash, by dateadded (5) or
                    datestart (7); by addedfrom.
6 estimates converted to invoices   sales orders whose invoiced_date is in the period and whose
                    invoice is not cancelled; a staff member's: added by them or their sale agent.
8 invoiced amount   sum of invoice totals by invoice date, drafts and cancelled invoices excluded
                    (Unpaid, Partially paid, Paid and Overdue count); by sale agent.

Progress = total x 100 / achievement, capped at 100 (a target of 0 is reached at once).

Every total of a page of goals comes from ONE query: a SELECT whose columns are one scalar
subquery per goal, each with the goal's own bounds as parameters, so each uses the date index of
its table.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import flask
from sqlalchemy import and_, func, literal, or_, select

from crm.core.extensions import db
from crm.core.models.base import money
from crm.core.resources import api_value
from crm.reports.models import ReportInvoiceDay, ReportPaymentDay
from crm.reports.rollup import current, settle
from crm.sales.models.clients import Client, Lead
from crm.sales.models.documents import Contract, Estimate, Goal, GoalType, Invoice, InvoiceStatus

# Invoices that count as invoiced: issued and not cancelled.
INVOICED_STATUSES = (InvoiceStatus.UNPAID.value, InvoiceStatus.PARTIALLY_PAID.value, InvoiceStatus.PAID.value,
                     InvoiceStatus.OVERDUE.value)
MONEY_TYPES = (GoalType.TOTAL_INCOME.value, GoalType.INVOICED_AMOUNT.value)
CONTRACT_TYPES = (GoalType.CONTRACTS_BY_TYPE_DATEADDED.value, GoalType.CONTRACTS_BY_TYPE_DATESTART.value)
HUNDRED = Decimal(100)


def _day_range(col, start: date, end: date):
    """``col`` (a datetime) falls on a day from ``start`` to ``end``; index-friendly bounds."""
    return and_(col >= datetime.combine(start, time.min), col < datetime.combine(end + timedelta(days=1), time.min))


def _total_income(goal, start, end):
    """Payments received (in their invoice's currency, as recorded), from the daily roll-up of
    payments by their invoice's sale agent (crm/reports/rollup.py keeps it equal to the payments)."""
    P = current(ReportPaymentDay)  # noqa: N806
    q = select(func.sum(P.amount)).where(P.day >= start, P.day <= end)
    if goal.staff_id:
        q = q.where(P.sale_agent == goal.staff_id)
    return q


def _converted_leads(goal, start, end):
    q = select(func.count(Lead.id)).where(_day_range(Lead.date_converted, start, end),
                                          Lead.id.in_(select(Client.leadid).where(Client.leadid.isnot(None))))
    if goal.staff_id:
        q = q.where(or_(Lead.assigned == goal.staff_id, and_(Lead.assigned.is_(None), Lead.addedfrom == goal.staff_id)))
    return q


def _new_customers(from_leads_too: bool):
    def build(goal, start, end):
        q = select(func.count(Client.userid)).where(_day_range(Client.datecreated, start, end))
        if not from_leads_too:
            q = q.where(Client.leadid.is_(None))
        if goal.staff_id:
            q = q.where(Client.addedfrom == goal.staff_id)
        return q
    return build


def _contracts(by_start: bool):
    def build(goal, start, end):
        when = (and_(Contract.datestart >= start, Contract.datestart <= end) if by_start
                else _day_range(Contract.dateadded, start, end))
        q = select(func.count(Contract.id)).where(when, Contract.trash.is_(False),
                                                  Contract.contract_type == goal.contract_type)
        if goal.staff_id:
            q = q.where(Contract.addedfrom == goal.staff_id)
        return q
    return build


def _estimates_converted(goal, start, end):
    q = (select(func.count(Estimate.id)).join(Invoice, Invoice.id == Estimate.invoiceid)
         .where(_day_range(Estimate.invoiced_date, start, end), Invoice.status != InvoiceStatus.CANCELLED.value))
    if goal.staff_id:
        q = q.where(or_(Estimate.addedfrom == goal.staff_id, Estimate.sale_agent == goal.staff_id))
    return q


def _invoiced_amount(goal, start, end):
    """Invoice totals (as issued), from the daily roll-up of invoices by sale agent and status."""
    I = current(ReportInvoiceDay)  # noqa: N806
    q = select(func.sum(I.amount)).where(I.day >= start, I.day <= end, I.status.in_(INVOICED_STATUSES))
    if goal.staff_id:
        q = q.where(I.sale_agent == goal.staff_id)
    return q


TOTALS = {
    GoalType.TOTAL_INCOME.value: _total_income,
    GoalType.CONVERTED_LEADS.value: _converted_leads,
    GoalType.NEW_CUSTOMERS_NOT_FROM_LEADS.value: _new_customers(from_leads_too=False),
    GoalType.ALL_NEW_CUSTOMERS.value: _new_customers(from_leads_too=True),
    GoalType.CONTRACTS_BY_TYPE_DATEADDED.value: _contracts(by_start=False),
    GoalType.ESTIMATES_CONVERTED.value: _estimates_converted,
    GoalType.CONTRACTS_BY_TYPE_DATESTART.value: _contracts(by_start=True),
    GoalType.INVOICED_AMOUNT.value: _invoiced_amount,
}


def is_money(goal) -> bool:
    return goal.goal_type in MONEY_TYPES


def _as_total(goal, value) -> Decimal:
    return money(value) if is_money(goal) else Decimal(int(value or 0))


def totals(goals) -> dict[int, Decimal]:
    """Each goal's total (Decimal: money for types 1 and 8, a whole count otherwise), one query."""
    goals = [g for g in goals if g.id is not None]
    if not goals:
        return {}
    if any(g.goal_type in MONEY_TYPES for g in goals):
        settle(db.session)  # money goals read the daily roll-ups: include this session's changes
    cols = []
    for g in goals:
        build = TOTALS.get(g.goal_type)
        untyped = g.goal_type in CONTRACT_TYPES and g.contract_type is None  # counts nothing until a type is set
        if build is None or untyped or g.start_date is None or g.end_date is None:
            cols.append(literal(0).label(f"g{g.id}"))
        else:
            cols.append(build(g, g.start_date, g.end_date).scalar_subquery().label(f"g{g.id}"))
    row = db.session.execute(select(*cols)).one()
    return {g.id: _as_total(g, value) for g, value in zip(goals, row)}


def percent(total: Decimal, achievement) -> Decimal:
    """total x 100 / achievement, capped at 100, 2 places."""
    target = Decimal(achievement or 0)
    if target <= 0:
        return money(HUNDRED)
    return money(min(Decimal(total) * HUNDRED / target, HUNDRED))


@dataclass(frozen=True)
class Progress:
    total: Decimal
    percent: Decimal

    @property
    def achieved(self) -> bool:
        return self.percent >= HUNDRED


def progress(goals) -> dict[int, Progress]:
    found = totals(goals)
    return {g.id: Progress(found[g.id], percent(found[g.id], g.achievement)) for g in goals if g.id in found}


_CACHE = "crm_goal_progress"


def progress_of(goal) -> Progress:
    """One goal's progress on a screen or an API page: the first call computes, in one query, every
    goal loaded in the session (the page's rows), so a page costs one query whatever its size."""
    cache = flask.g.setdefault(_CACHE, {})
    if goal.id not in cache:
        loaded = [o for o in db.session.identity_map.values() if isinstance(o, Goal) and o.id not in cache]
        cache.update(progress(loaded if goal in loaded else loaded + [goal]))
    return cache[goal.id]


def api_progress(goal) -> dict:
    """The ``progress`` a goal carries in the API (read-only)."""
    p = progress_of(goal)
    return {"total": str(p.total), "percent": str(p.percent), "achieved": p.achieved}


api_value(Goal, "progress", api_progress)
