"""Warehouse reports the seed names: current stock vs minimum, and lots expiring within N days.

Both are single SQL queries (aggregates and a join), paginated, exportable as CSV. With stock
reservation on (warehouse_reserve_on_accept), stock vs minimum also shows what accepted sales orders
hold and measures the shortfall on what is available: held units are already promised, so they do
not keep an item above its minimum."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from flask import Response, abort, redirect, request, url_for
from flask_admin import expose
from sqlalchemy import func, literal, select

from crm.admin_views.access import StaffView
from crm.catalog.models import Item
from crm.core.extensions import db
from crm.core.spreadsheet import safe_row
from crm.warehouse.actions.reservations import held_per_item, on as reservations_on
from crm.warehouse.models import InventoryBalance, MinimumStock, Warehouse

PAGE = 100


def stock_vs_minimum(below_only: bool = True, page: int = 1, page_size: int = PAGE):
    """Items with a minimum: on hand (all warehouses), minimum, maximum, shortfall, reserved and
    available; fewest first."""
    on_hand = (select(InventoryBalance.commodity_id, func.sum(InventoryBalance.inventory_number).label("qty"))
               .group_by(InventoryBalance.commodity_id).subquery())
    qty = func.coalesce(on_hand.c.qty, 0)
    held = held_per_item() if reservations_on() else None
    reserved = func.coalesce(held.c.qty, 0) if held is not None else literal(0)
    free = qty - reserved
    # count(*) over (): the total comes with the page, so the aggregate runs once per request
    query = (select(Item.id, Item.commodity_code, Item.commodity_name, qty.label("on_hand"),
                    MinimumStock.inventory_number_min, MinimumStock.inventory_number_max,
                    (MinimumStock.inventory_number_min - free).label("short"), reserved.label("reserved"),
                    free.label("available"), func.count().over().label("total"))
             .join(MinimumStock, MinimumStock.commodity_id == Item.id)
             .outerjoin(on_hand, on_hand.c.commodity_id == Item.id))
    if held is not None:
        query = query.outerjoin(held, held.c.commodity_id == Item.id)
    if below_only:
        query = query.where(free < MinimumStock.inventory_number_min)
    rows = db.session.execute(query.order_by((MinimumStock.inventory_number_min - free).desc(), Item.id)
                              .limit(page_size).offset((page - 1) * page_size)).all()
    if rows or page == 1:
        return (rows[0].total if rows else 0), rows
    return db.session.execute(select(func.count()).select_from(query.subquery())).scalar(), []


def expiring_lots(days: int, page: int = 1, page_size: int = PAGE):
    """Lots in stock whose expiry date is within ``days`` (expired ones first)."""
    until = date.today() + timedelta(days=days)
    query = (select(InventoryBalance.lot_number, InventoryBalance.expiry_date, InventoryBalance.inventory_number,
                    Item.id, Item.commodity_code, Item.commodity_name, Warehouse.warehouse_name)
             .join(Item, Item.id == InventoryBalance.commodity_id)
             .join(Warehouse, Warehouse.warehouse_id == InventoryBalance.warehouse_id)
             .where(InventoryBalance.inventory_number > 0, InventoryBalance.expiry_date.isnot(None),
                    InventoryBalance.expiry_date <= until))
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar()
    rows = db.session.execute(query.order_by(InventoryBalance.expiry_date, InventoryBalance.id)
                              .limit(page_size).offset((page - 1) * page_size)).all()
    return total, rows


def _csv(header, rows, filename) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(safe_row(header))
    writer.writerows(safe_row(row) for row in rows)
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


class StockReportsView(StaffView):
    table = "InventoryBalance"
    verb = "view_all"  # stock of every warehouse and item

    @expose("/")
    def index(self):
        return redirect(url_for(".minimum"))

    @expose("/minimum")
    def minimum(self):
        below = request.args.get("all") != "1"
        page = max(request.args.get("page", 1, type=int), 1)
        reserving = reservations_on()
        if request.args.get("export") == "csv":
            _, rows = stock_vs_minimum(below, 1, 1_000_000)
            extra = ["reserved", "available"] if reserving else []
            return _csv(["item id", "code", "name", "on hand", "minimum", "maximum", "short", *extra],
                        [r[:7 + len(extra)] for r in rows], "stock-vs-minimum.csv")
        total, rows = stock_vs_minimum(below, page)
        return self.render("admin/stock_reports.html", report="minimum", rows=rows, total=total, page=page,
                           pages=max((total + PAGE - 1) // PAGE, 1), below=below, reserving=reserving)

    @expose("/expiring")
    def expiring(self):
        days = request.args.get("days", 30, type=int)
        if days is None or days < 0 or days > 3650:
            abort(400, "days must be a number of days between 0 and 3650")
        page = max(request.args.get("page", 1, type=int), 1)
        if request.args.get("export") == "csv":
            _, rows = expiring_lots(days, 1, 1_000_000)
            return _csv(["lot", "expiry", "quantity", "item id", "code", "name", "warehouse"], rows,
                        "expiring-lots.csv")
        total, rows = expiring_lots(days, page)
        return self.render("admin/stock_reports.html", report="expiring", rows=rows, total=total, page=page,
                           pages=max((total + PAGE - 1) // PAGE, 1), days=days, today=date.today())
