"""What a client does from the portal: accept (with a signature) or decline a proposal or sales order.

The portal calls the ``client_accept`` / ``client_decline`` functions of proposals.py and
estimates.py; they share the rules here. Each call is one transaction, committed here (the
portal does not write anything else), rolled back with nothing written when refused.
"""
from __future__ import annotations

import functools
from datetime import date, datetime

from crm.core import options
from crm.core.activity import log_activity
from crm.core.extensions import db
from crm.core.registry import ActionError
from crm.core.resources import resource_name
from crm.sales.actions.sales_activity import log_sales_activity


def portal_transaction(func):
    """Run ``func(doc, ...)`` with ``doc``'s row locked, then commit; roll back on refusal."""

    @functools.wraps(func)
    def wrapper(doc, *args, **kwargs):
        try:
            db.session.refresh(doc, with_for_update=True)  # two clicks cannot both accept
            result = func(doc, *args, **kwargs)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        return result

    return wrapper


def refuse_if_expired(doc, valid_until: date | None, kind: str, today: date | None = None) -> None:
    if valid_until is not None and valid_until < (today or date.today()):
        raise ActionError(f"This {kind} expired on {valid_until:%d.%m.%Y}; ask {options.get('companyname')} "
                          "to extend it or to send you a new one.")


def record_acceptance(doc, firstname: str, lastname: str, email: str, signature: str | None, ip: str | None):
    doc.acceptance_firstname, doc.acceptance_lastname = firstname, lastname
    doc.acceptance_email, doc.acceptance_ip = email, ip
    doc.acceptance_date = datetime.utcnow()
    doc.signature = signature


def log_client(doc, shown: str, what: str, who: str | None, ip: str | None) -> None:
    """History of a client's decision: the activity log and the document's sales activity."""
    who = (who or "").strip() or "The client"
    log_activity(None, f"{who} {what} {shown} from the portal" + (f" (IP {ip})" if ip else ""),
                 rel_type=resource_name(type(doc)), rel_id=doc.id)
    log_sales_activity(doc, None, f"{what.capitalize()} by the client", additional_data=ip, full_name=who)
