"""Search everywhere: one box (Ctrl+K or "/" on any admin page) over leads, clients, contacts,
vendors and the documents, by number, name, email or phone.

``GET /admin/search?q=`` answers the box's result list (HTML, for htmx) or, with ``format=json``,
the same results as JSON. Each searched table is asked once with a LIMIT, and only the tables the
staff member may open, narrowed to their own rows when they view their own only. The columns
searched come from the declarations: a table's text columns that hold a number, a name, an email
or a phone."""
from __future__ import annotations

from dataclasses import dataclass

from flask import jsonify, render_template, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import String, inspect, or_, select
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from crm import models
from crm.admin_views.access import StaffView
from crm.core.extensions import db
from crm.core.permissions import can_table, visible
from crm.core.registry import details_url
from crm.core.resources import columns, fk_relationships, primary_key, resource_of, status_enum

# What the box covers, people first; each table's columns are found below.
SEARCHED = ("Lead", "Client", "Contact", "Vendor", "Invoice", "Proposal", "Estimate", "Contract", "PurchaseRequest",
            "PurchaseQuotation", "PurchaseOrder", "VendorInvoice", "GoodsReceipt", "GoodsDelivery", "PackingList")
# Columns that say which record it is: numbers and codes, names, emails, phones.
FINDABLE = ("formatted_number", "pur_order_number", "pur_rq_code", "invoice_number", "vendor_invoice_number",
            "goods_receipt_code", "goods_delivery_code", "packing_list_number", "vendor_code", "company", "name",
            "subject", "pur_order_name", "pur_rq_name", "proposal_to", "firstname", "lastname", "email",
            "phonenumber", "phone")
PER_TABLE = 5
MIN_LENGTH = 2


# The tables a record is for or with: their name is shown beside a document found.
PARTY_TABLES = ("tblclients", "tblpur_vendor")


@dataclass
class Hit:
    kind: str
    name: str
    status: str | None
    status_color: str | None
    detail: str
    url: str | None
    party: str = ""  # the client (or vendor) of a document
    see_all: bool = False  # not a record: the grid of this type, filtered by the search

    def as_dict(self) -> dict:
        if self.see_all:
            return {"type": self.kind, "see_all": self.url}
        return {"type": self.kind, "name": self.name, "status": self.status, "detail": self.detail, "url": self.url,
                "party": self.party}


def party_relationship(model) -> str | None:
    """The many-to-one link of a document to its client or vendor (loaded in the same query)."""
    rels = {r.key: r for r in inspect(model).relationships}
    for rel_key in fk_relationships(model).values():
        if rels[rel_key].mapper.local_table.name in PARTY_TABLES:
            return rel_key
    return None


def grid_search_url(model, term: str) -> str | None:
    """The model's grid searched for ``term`` (its search box: the same columns, crm/admin_views/factory.py)."""
    try:
        return url_for(f"{resource_of(model).name}.index_view", search=term)
    except BuildError:
        return None


def findable_columns(model) -> list:
    cols = {c.key: c for c in columns(model) if isinstance(c.type, String)}
    return [getattr(model, k) for k in FINDABLE if k in cols]


def _status(model, row) -> tuple[str | None, str | None]:
    for c in columns(model):
        enum_cls = status_enum(c)
        if enum_cls is not None:
            code = getattr(row, c.key)
            shown = enum_cls.shown_for(row, code) if code is not None else None
            return shown if shown is not None else (None, None)
    return None, None


def _detail(model, row, shown: str) -> str:
    parts = []
    for key in ("company", "email", "phonenumber", "phone", "proposal_to"):
        value = getattr(row, key, None) if hasattr(model, key) else None
        if value and str(value) not in shown and str(value) not in parts:
            parts.append(str(value))
    return " · ".join(parts[:2])


def search(term: str, staff) -> list[Hit]:
    term = " ".join((term or "").split())[:100]
    if len(term) < MIN_LENGTH:
        return []
    pattern = f"%{term.replace('%', '').replace('_', ' ')}%".replace(" ", "%")
    hits = []
    for name in SEARCHED:
        model = getattr(models, name)
        if not can_table(staff, model, "view"):
            continue
        cols = findable_columns(model)
        if not cols:
            continue
        pk = getattr(model, primary_key(model))
        stmt = visible(select(model), staff, model).where(or_(*[c.ilike(pattern) for c in cols]))
        party = party_relationship(model)
        if party:  # the client's name in the same query (a join), not one query per result
            stmt = stmt.options(joinedload(getattr(model, party)))
        rows = db.session.execute(stmt.order_by(pk.desc()).limit(PER_TABLE + 1)).scalars().all()
        kind = resource_of(model).label
        for row in rows[:PER_TABLE]:
            shown = str(row)
            status, color = _status(model, row)
            owner = getattr(row, party) if party else None
            owner_name = str(owner) if owner is not None else ""
            hits.append(Hit(kind=_singular(row, kind), name=shown, status=status, status_color=color,
                            detail=_detail(model, row, f"{shown} {owner_name}"), url=details_url(row),
                            party=owner_name))
        if len(rows) > PER_TABLE and (url := grid_search_url(model, term)):
            hits.append(Hit(kind=kind, name=f"See all {kind.lower()} matching “{term}”", status=None,
                            status_color=None, detail="", url=url, see_all=True))
    return hits


def _singular(row, label: str) -> str:
    if getattr(row, "is_opportunity", False):
        return "Opportunity"
    return label[:-1] if label.endswith("s") and not label.endswith("ss") else label


class SearchView(StaffView):
    """Any signed-in staff member may search; each table answers only if they may open it."""

    def is_visible(self):
        return False

    @expose("/")
    def index(self):
        term = request.args.get("q", "")
        hits = search(term, current_user)
        if request.args.get("format") == "json":
            return jsonify(query=term, results=[h.as_dict() for h in hits])
        return render_template("admin/crm_search_results.html", hits=hits, term=term, min_length=MIN_LENGTH)


def init_search(admin) -> None:
    admin.add_view(SearchView(name="Search", endpoint="crm_search", url="/admin/search"))
