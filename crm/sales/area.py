"""The sales area as create_app wires it: what it declares to core (its business events, its rules
at the generic doors, the PDFs it prints and the API values it computes, each declared where it is
defined, at import) and the client portal (/portal/<kind>/<id>/<hash>, no staff login)."""
from __future__ import annotations

from crm.sales import documents, entry_rules, events, goals  # noqa: F401  (declarations: see the docstring)
from crm.sales.portal import bp as portal


def register(app) -> None:
    app.register_blueprint(portal)
