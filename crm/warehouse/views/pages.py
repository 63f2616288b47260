"""The warehouse's panels on record pages (crm/core/pages.py), registered when the app is created."""
from __future__ import annotations

from crm.catalog.models import Item
from crm.core import pages
from crm.warehouse.actions.stock import item_stock_context
from crm.warehouse.models import PhysicalInventory
from crm.warehouse.views.physical_inventory import count_context


def register_pages() -> None:
    pages.panel(Item, "admin/item_stock.html", item_stock_context)  # balances per warehouse and lot
    pages.panel(PhysicalInventory, "admin/physical_inventory_extra.html", count_context)
