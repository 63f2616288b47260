"""The warehouse area as create_app wires it: the PDFs it prints (delivery notes, count sheets),
declared at import, its rules and its documents' totals at the generic doors
(crm/warehouse/entry_rules.py, crm/warehouse/totals.py), and the count sheets' download and upload pages."""
from __future__ import annotations

# imported for what they declare: the PDFs they print, the rules and totals at the generic doors
from crm.warehouse import count_sheets, documents, entry_rules, totals  # noqa: F401
from crm.warehouse.views.physical_inventory import bp as count_sheet_pages


def register(app) -> None:
    app.register_blueprint(count_sheet_pages)
