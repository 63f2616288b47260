"""Search everywhere: one box (Ctrl+K or "/" on any admin page) over leads, clients, contacts,
vendors and the documents, by number, name, email or phone.

``GET /admin/search?q=`` answers the box's result list (HTML, for htmx) or, with ``format=json``,
the same results as JSON. Only the tables the staff member may open are asked, narrowed to their
own rows when they view their own only. The columns searched come from the declarations: a
table's text columns that hold a number, a name, an email or a phone.

Each table is asked first for the keys of its matches, at most PROBE + 1 of them in any order, and
the newest of those: a term that few rows match is then found through the column indexes (the
trigram indexes on PostgreSQL), where ``ORDER BY id DESC LIMIT 6`` alone lets PostgreSQL walk the
primary key backwards testing every row (it reckons a match at least 1 row in 10,000, so a term
that matches one lead in 200,000 cost 400 ms). The rows are then loaded by those keys. Past PROBE
matches the term is common, and the newest are found by walking the primary key as before. On
SQLite a table whose searched columns all have an FTS5 trigram table gives its newest matches
straight from it, read newest first, whatever their number (crm/core/search_index.py)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask import jsonify, render_template, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import String, inspect, or_, select, union_all
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from crm import models
from crm.admin_views.access import StaffView
from crm.core import search_index
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
PROBE = 1000  # matches of one table read to pick its newest (beyond: the newest by the primary key)


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


COMMON = object()  # more than PROBE matches


def newest_matches(stmt, pk, conditions, term: str) -> list | object:
    """The keys of the PER_TABLE + 1 newest rows of ``stmt`` that meet one of ``conditions``, or
    COMMON past PROBE matches. Without an ORDER BY the database reads the matches through the
    searched columns' indexes rather than walking the primary key. On PostgreSQL each column is
    asked on its own (UNION ALL): ORed, the planner prices ILIKE as a cheap operator and scans a
    table of 20,000 contacts testing five columns a row (40-50 ms) where each column's trigram
    index answers in under a millisecond. A term without three letters or digits in a row has no
    trigram to look up, on MariaDB no index serves the columns, and on SQLite this is asked only
    where no FTS5 table does (search_index.newest_keys answers the others): one scan testing them
    all is then the cheapest."""
    keys = stmt.with_only_columns(pk)
    if len(conditions) > 1 and re.search(r"[^\W_]{3}", term) and db.session.get_bind().dialect.name == "postgresql":
        found = union_all(*[keys.where(c) for c in conditions]).subquery()
    else:
        found = keys.where(or_(*conditions)).subquery()
    rows = db.session.scalars(select(found.c[0]).limit(PROBE + 1)).all()
    if len(rows) > PROBE:
        return COMMON
    return sorted(set(rows), reverse=True)[:PER_TABLE + 1]


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
        stmt = visible(select(model), staff, model)
        # on SQLite the newest keys straight from the columns' FTS5 trigram table when it has them
        # all (crm/core/search_index.py); else the keys of the matches first
        newest = search_index.newest_keys(stmt, pk, cols, pattern, PER_TABLE + 1)
        if newest is None:
            conditions = search_index.any_like(cols, pattern)
            newest = newest_matches(stmt, pk, conditions, term)
        if not newest:
            continue
        # a common term: the newest rows walked testing the LIKE, where a plan led by the index
        # would read and sort every match
        stmt = stmt.where(or_(*conditions)) if newest is COMMON else select(model).where(pk.in_(newest))
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
