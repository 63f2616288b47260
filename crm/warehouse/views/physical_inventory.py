"""What a physical inventory's page shows below its fields: the count sheets to print or download,
the counts entered line by line, and the variance report (counted − book, valued at purchase price,
lines not counted flagged)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import ValidationError, validate_csrf

from crm.core.documents import fmt, fmt_qty
from crm.core.extensions import db
from crm.core.models.base import FieldError
from crm.core.permissions import can_table, sees
from crm.warehouse.actions.physical_inventory import line_name, variances
from crm.warehouse.count_sheets import csv_text, xlsx_bytes
from crm.warehouse.models import PhysicalInventory, WarehouseApproval

bp = Blueprint("physical_inventory", __name__)
BASE = "/admin/warehouse/physical_inventory"


def count_context(count: PhysicalInventory) -> dict:
    draft = count.status == WarehouseApproval.DRAFT.value
    return {"report": variances(count), "qty": fmt_qty, "money": fmt, "draft": draft,
            "editable": draft and can_table(current_user, PhysicalInventory, "edit"),
            "pdf_url": url_for("documents.download", kind="count_sheet", doc_id=count.id),
            "xlsx_url": url_for("physical_inventory.sheet", count_id=count.id, ext="xlsx"),
            "csv_url": url_for("physical_inventory.sheet", count_id=count.id, ext="csv"),
            "counts_url": url_for("physical_inventory.counts", count_id=count.id),
            "upload_url": url_for("wh_physical_inventory.run_action_view", action_name="upload_counts",
                                  obj_id=count.id, url=_details(count.id)),
            "adjustment_url": url_for("wh_loss_adjustment.details_view", id=count.loss_adjustment_id)
            if count.loss_adjustment_id else None}


def _details(count_id: int) -> str:
    return url_for("wh_physical_inventory.details_view", id=count_id)


def _count(count_id: int, permission: str) -> PhysicalInventory:
    if not can_table(current_user, PhysicalInventory, permission):
        abort(403)
    count = db.session.get(PhysicalInventory, count_id)
    if count is None or not sees(current_user, count):
        abort(404)
    return count


@bp.get(f"{BASE}/<int:count_id>/count_sheet.<ext>")
@login_required
def sheet(count_id: int, ext: str):
    """The count sheet to fill, as Excel or CSV (its Line ID column matches it back on upload)."""
    count = _count(count_id, "view")
    name = f"count-sheet-{count.code or count.id}".replace("/", "-")
    if ext == "xlsx":
        return Response(xlsx_bytes(count), headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    if ext == "csv":
        return Response(csv_text(count), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    abort(404)


@bp.post(f"{BASE}/<int:count_id>/counts")
@login_required
def counts(count_id: int):
    """The counts typed on the count's page (``counted-<line id>``; empty: not counted). Every value is
    checked first; one bad value and nothing is saved."""
    count = _count(count_id, "edit")
    back = redirect(_details(count_id))
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        flash("The form expired; please try again.", "error")
        return back
    if count.status != WarehouseApproval.DRAFT.value:
        flash(f"{count} is {WarehouseApproval.label_of(count.status)}; its counts cannot change.", "error")
        return back
    values, errors = {}, []
    for n, line in enumerate(count.items, start=1):
        key = f"counted-{line.id}"
        if key not in request.form:
            continue
        raw = request.form[key].strip().replace(",", ".")
        try:
            values[line] = Decimal(raw) if raw else None
        except InvalidOperation:
            errors.append(f"{line_name(n, line, start=True)}: {raw!r} is not a number.")
            continue
        if values[line] is not None and values[line] < 0:
            errors.append(f"{line_name(n, line, start=True)}: a count is zero or more, not {raw}.")
    if errors:
        flash("Nothing saved. " + " ".join(errors), "error")
        return back
    try:
        for line, value in values.items():
            line.counted_quantity = value
        db.session.commit()
    except FieldError as exc:
        db.session.rollback()
        flash(f"Nothing saved. {exc.message}", "error")
        return back
    left = sum(1 for ln in count.items if ln.counted_quantity is None)
    flash(f"Counts saved on {count}" + (f"; {left} line(s) still not counted." if left else "."), "success")
    return back
