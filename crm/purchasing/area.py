"""The purchasing area as create_app wires it: the PDFs it sends vendors (RFQs, purchase orders),
declared at import, and the vendor portal (/vendor/<kind>/<id>/<hash>, no staff login)."""
from __future__ import annotations

from crm.purchasing import documents  # noqa: F401  (declare the PDFs it prints)
from crm.purchasing.vendor_portal import bp as vendor_portal


def register(app) -> None:
    app.register_blueprint(vendor_portal)
