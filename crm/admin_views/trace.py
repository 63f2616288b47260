"""Traceability: from any document of the commercial cycle, every document linked to it.

The chain is not written per table. It is the connected part of a graph whose nodes are the
documents listed in CHAIN and whose edges are the real foreign keys the models declare between
them (tblinvoices ← tblgoods_delivery.invoice_id, tblpur_orders ← tblgoods_receipt.pr_order_id,
tblpur_request ← tblpur_orders.pur_request, tblestimates ← tblpur_orders.sale_estimate, …). A link
another part adds between two of these tables joins the chain without a change here.

Served as a page (``/admin/trace/<resource>/<id>``, the "Trace" link on each details page) and as
JSON (``GET /api/v1/<resource>/<id>/trace``).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache

from flask import abort, g, redirect, url_for
from flask_admin import expose
from flask_login import current_user
from flask_smorest import Blueprint as ApiBlueprint
from sqlalchemy import inspect

from crm import models
from crm.admin_views.access import StaffView
from crm.api import ApiError, api
from crm.core.extensions import db
from crm.core.permissions import can_table, sees
from crm.core.resources import models_by_resource, primary_key, resource_of, status_enum

# The documents of the seed's "Complete Order Traceability" tree, in the order the page shows them:
# (model class name, heading).
CHAIN = (
    ("Proposal", "Proposals"),
    ("Estimate", "Sales orders"),
    ("Invoice", "Invoices"),
    ("GoodsDelivery", "Delivery notes"),
    ("PackingList", "Packing lists"),
    ("Shipment", "AWBs"),
    ("InvoicePayment", "Payments"),
    ("PurchaseRequest", "Requests for quotation"),
    ("PurchaseQuotation", "Vendor quotations"),
    ("PurchaseOrder", "Purchase orders"),
    ("GoodsReceipt", "Goods receipts"),
    ("VendorInvoice", "Vendor invoices"),
    ("VendorPayment", "Vendor payments"),
)
LIMIT = 500  # documents per trace: a chain is a handful; this stops a runaway walk


@dataclass(frozen=True)
class Edge:
    source: type  # the table holding the foreign key
    column: str
    target: type  # the table it points to


@lru_cache
def chain_models() -> dict[type, str]:
    return {getattr(models, name): heading for name, heading in CHAIN if hasattr(models, name)}


@lru_cache
def edges() -> tuple[Edge, ...]:
    """Every foreign key from one chain document to another (self-links such as recurring invoices left out)."""
    by_table = {m.__table__.name: m for m in chain_models()}
    found = []
    for model in chain_models():
        for col in inspect(model).columns:
            for fk in col.foreign_keys:
                target = by_table.get(fk.column.table.name)
                if target is not None and target is not model:
                    found.append(Edge(model, col.key, target))
    return tuple(found)


@dataclass
class Node:
    obj: object
    links: list = field(default_factory=list)  # (Node key, column) this document points to

    @property
    def model(self):
        return type(self.obj)

    @property
    def key(self):
        return (self.model, getattr(self.obj, primary_key(self.model)))


def _key(obj):
    return (type(obj), getattr(obj, primary_key(type(obj))))


def walk(start) -> dict:
    """The documents connected to ``start`` through declared foreign keys: {(model, id): Node}."""
    nodes = {_key(start): Node(start)}
    todo = deque([start])
    while todo and len(nodes) < LIMIT:
        obj = todo.popleft()
        model, pk = _key(obj)
        neighbours = []
        for e in edges():
            if e.source is model and getattr(obj, e.column) is not None:
                target = db.session.get(e.target, getattr(obj, e.column))
                if target is not None:
                    nodes[_key(obj)].links.append((_key(target), e.column))
                    neighbours.append(target)
            if e.target is model:
                neighbours += db.session.query(e.source).filter(getattr(e.source, e.column) == pk) \
                    .order_by(getattr(e.source, primary_key(e.source))).limit(LIMIT).all()
        for other in neighbours:
            if _key(other) not in nodes:
                nodes[_key(other)] = Node(other)
                todo.append(other)
    return nodes


def status_of(obj) -> str | None:
    for col in inspect(type(obj)).columns:
        enum_cls = status_enum(col)
        if enum_cls is not None and col.key in ("status", "approval", "payment_status", "delivery_status"):
            return enum_cls.row_label(obj, getattr(obj, col.key))
    return None


def describe(node: Node, nodes: dict, allowed) -> dict:
    model, pk = node.key
    res = resource_of(model)
    visible = allowed(model)
    out = {"resource": res.name, "id": pk, "type": chain_models()[model], "label": str(node.obj) if visible else None,
           "status": status_of(node.obj) if visible else None,
           "links": [{"resource": resource_of(k[0]).name, "id": k[1], "via": col} for k, col in node.links]}
    if visible:
        out["url"] = url_for(f"{res.name}.details_view", id=pk)
    return out


def trace(start, allowed) -> list[dict]:
    """The chain of ``start`` as sections [{type, documents: [...]}], in CHAIN order.

    ``allowed(model)`` says whether the reader may see documents of that table; others show as
    their type and id only, so the shape of the chain stays visible without its contents."""
    nodes = walk(start)
    sections = []
    for model, heading in chain_models().items():
        docs = [describe(n, nodes, allowed) for k, n in sorted(nodes.items(), key=lambda kv: kv[0][1])
                if k[0] is model]
        if docs:
            sections.append({"type": heading, "documents": docs})
    return sections


def traceable(obj) -> bool:
    return type(obj) in chain_models()


def trace_url(obj) -> str | None:
    """The Trace link of a details page, for documents of the chain (a Jinja global)."""
    if obj is None or not traceable(obj):
        return None
    return url_for("trace.chain", resource=resource_of(type(obj)).name, obj_id=getattr(obj, primary_key(type(obj))))


def _load(resource: str, obj_id: int):
    model = models_by_resource().get(resource)
    if model is None or model not in chain_models():
        return None, None
    return model, db.session.get(model, obj_id)


# --- the admin page --------------------------------------------------------------------------

class TraceView(StaffView):  # each document in the chain checks its own table's permission
    def is_visible(self):
        return False

    @expose("/")
    def index(self):
        return redirect(url_for("admin.index"))

    @expose("/<resource>/<int:obj_id>")
    def chain(self, resource, obj_id):
        model, obj = _load(resource, obj_id)
        if obj is None:
            abort(404)
        if not can_table(current_user, model, "view"):
            abort(403)
        if not sees(current_user, obj):
            abort(404)
        sections = trace(obj, lambda m: can_table(current_user, m, "view"))
        return self.render("admin/trace.html", start=obj, start_type=chain_models()[model], sections=sections,
                           start_key={"resource": resource, "id": obj_id})


# --- the API ---------------------------------------------------------------------------------

api_bp = ApiBlueprint("api_trace", "crm.admin_views.trace", url_prefix="/api/v1",
                      description="The document chain of any sales or purchasing document")


@api_bp.route("/<resource>/<int:obj_id>/trace", methods=["GET"])
def api_trace(resource, obj_id):
    """Every document linked to this one by foreign keys, grouped by type, in the order of the cycle."""
    model, obj = _load(resource, obj_id)
    if model is None:
        raise ApiError(404, f"{resource} is not a document of the commercial cycle; trace one of: "
                            + ", ".join(resource_of(m).name for m in chain_models()) + ".")
    if obj is None or not sees(g.api_user, obj):
        raise ApiError(404, f"{resource} #{obj_id} does not exist.")
    return {"resource": resource, "id": obj_id, "label": str(obj),
            "chain": trace(obj, lambda m: can_table(g.api_user, m, "view"))}


def init_trace(app, admin) -> None:
    api.register_blueprint(api_bp)
    admin.add_view(TraceView(name="Trace", endpoint="trace", url="/admin/trace"))
    app.add_template_global(trace_url, "trace_url")
