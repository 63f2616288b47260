"""The warehouse area as create_app wires it: the PDFs it prints (delivery notes, count sheets),
declared at import, and the count sheets' download and upload pages."""
from __future__ import annotations

from crm.warehouse import count_sheets, documents  # noqa: F401  (declare the PDFs they print)
from crm.warehouse.views.physical_inventory import bp as count_sheet_pages


def register(app) -> None:
    app.register_blueprint(count_sheet_pages)
