"""History lines of sales records: tblsales_activity (shown on a proposal, sales order, invoice or
contract) and tbllead_activity_log (a lead's timeline)."""
from __future__ import annotations

from crm.core.activity import queue_line
from crm.sales.models.clients import LeadActivityLog, SalesActivity

# Document table -> tblsales_activity.rel_type (the words Perfex uses).
REL_TYPES = {"tblproposals": "proposal", "tblestimates": "estimate", "tblinvoices": "invoice",
             "tblcontracts": "contract"}


def log_sales_activity(doc, actor, description: str, additional_data: str | None = None,
                       full_name: str | None = None) -> None:
    """One history line on ``doc``; ``full_name`` names a client acting from the portal."""
    queue_line(SalesActivity, {"rel_type": REL_TYPES[doc.__tablename__], "description": description,
                               "additional_data": additional_data, "staffid": getattr(actor, "staffid", None),
                               "full_name": full_name or getattr(actor, "full_name", None)}, id_of=doc)


def log_lead_activity(lead, actor, description: str, additional_data: str | None = None):
    queue_line(LeadActivityLog, {"description": description, "additional_data": additional_data,
                                 "staffid": getattr(actor, "staffid", None),
                                 "full_name": getattr(actor, "full_name", None)},
               id_of=lead, id_column="leadid")
