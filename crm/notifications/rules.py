"""Who is told what, per event: the one table of staff notifications.

A rule names the event, the record the notification is about (a payment is about its invoice),
the columns of that record holding the staff members to tell, and the wording. The staff member
who did it is never told about their own act (crm.notifications drops them).
"""
from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Callable

from crm.core.extensions import db
from crm.core.models.settings import Staff


@dataclass(frozen=True)
class Rule:
    event: str
    # The record's staff id columns (each one set is told), or a function of the record giving staff ids.
    recipients: tuple[str, ...] | Callable
    wording: str  # {who} {number} {client} {amount} {duedate} {comment}, and what the event passes
    about: Callable | None = None  # the record the notification is about, when not the event's object
    email_template: str = "staff-notification"


def _goal_owners(goal) -> list[int]:
    """A staff member's goal tells them; a company-wide one (staff_id 0) tells the administrators."""
    if goal.staff_id:
        return [goal.staff_id]
    return [sid for (sid,) in db.session.query(Staff.staffid).filter(Staff.admin.is_(True), Staff.active.is_(True))
            .order_by(Staff.staffid)]


RULES: tuple[Rule, ...] = (
    Rule("lead.created", ("assigned",), "New lead {number}, assigned to you"),
    Rule("lead.assigned", ("assigned",), "{who} assigned lead {number} to you"),
    Rule("proposal.sent", ("assigned",), "{who} sent proposal {number} to {client}",
         email_template="proposal-sent-to-staff"),
    Rule("proposal.viewed", ("assigned",), "{who} opened proposal {number} in the client portal"),
    Rule("proposal.commented", ("assigned",), "{who} commented on proposal {number}: “{comment}”"),
    Rule("proposal.accepted", ("assigned",), "{who} accepted proposal {number}"),
    Rule("proposal.declined", ("assigned",), "{who} declined proposal {number}"),
    Rule("estimate.accepted", ("sale_agent",), "{who} accepted sales order {number}"),
    Rule("estimate.declined", ("sale_agent",), "{who} declined sales order {number}"),
    Rule("invoice.overdue", ("sale_agent",), "Invoice {number} is overdue (due {duedate})"),
    Rule("invoice.paid", ("sale_agent",), "Invoice {number} was paid in full"),
    Rule("payment.recorded", ("sale_agent",), "A payment of {amount} was recorded on invoice {number}",
         about=attrgetter("invoice")),
    Rule("purchase_order.approved", ("addedfrom",), "Purchase order {number} was approved"),
    Rule("goods_receipt.approved", ("addedfrom",), "Goods receipt {number} was approved"),
    Rule("delivery_note.approved", ("addedfrom",), "Delivery note {number} was approved"),
    Rule("physical_inventory.approved", ("addedfrom",), "Stock take {number} was approved and its differences posted"),
    Rule("contract.signed", ("addedfrom",), "{who} signed contract {number}"),
    Rule("contract.expiring", ("addedfrom",), "Contract {number} ends soon"),
    Rule("goal.achieved", _goal_owners, "Goal “{number}” achieved: {total} of {target} ({percent}%)"),
    Rule("goal.failed", _goal_owners, "Goal “{number}” ended on {end} short of its target: {total} of {target} "
         "({percent}%)"),
)

BY_EVENT: dict[str, list[Rule]] = {}
for _rule in RULES:
    BY_EVENT.setdefault(_rule.event, []).append(_rule)


def add_rule(rule: Rule) -> None:
    """For other modules: tell staff about an event of theirs (register the event first)."""
    BY_EVENT.setdefault(rule.event, []).append(rule)
