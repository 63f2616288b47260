"""The courier part of a packing list's page (its AWB, label and the courier's events), and the label download."""
from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required

from crm.core import pages, storage
from crm.core.extensions import db
from crm.core.permissions import can_table
from crm.shipping.actions import LABELS, events_of, shipment_of
from crm.warehouse.models import PackingList, Shipment

bp = Blueprint("shipping", __name__)


def shipment_context(pl: PackingList) -> dict:
    shipment = shipment_of(pl)
    return {"shipment": shipment, "events": list(reversed(events_of(shipment)))}


@bp.get("/admin/innoship/label/<int:shipment_id>.pdf")
@login_required
def label(shipment_id: int):
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None or not shipment.label_path or not can_table(current_user, Shipment, "view_all"):
        abort(404)
    return storage.send(LABELS, shipment.label_path, mimetype="application/pdf",
                        download_name=f"AWB-{shipment.awb_number}.pdf")


def register_pages() -> None:
    """The courier panel on a packing list's page (crm/core/pages.py)."""
    pages.panel(PackingList, "admin/packing_list_shipment.html", shipment_context)
