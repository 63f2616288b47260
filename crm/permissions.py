"""Permission modules, verbs and "view own", as Perfex has them.

A key is ``<module>.<verb>`` (``invoices.edit``) or ``action:<resource>.<action>``. Every table names
its module in its ``__crm__`` Resource (``module=``) and the columns that make a row someone's own
(``own=``). The verbs:

view_own  rows assigned to or created by the staff member (the table's ``own`` columns); a table
          without such columns shows nothing to a view-own user
view      every row ("view all")
create, edit, delete   through the grid and the API; with view own, only on one's own rows
export    the grid's CSV export (of the rows the person sees)

Reports show company figures: they need ``reports.view`` and "view all" on the tables behind them,
so a view-own user sees no report (the home page's "my" panels are their figures).
"""
from __future__ import annotations

from sqlalchemy import false, or_
from .resources import resource_of, primary_key
from .extensions import db

# Ordered as the Roles screen shows them.
MODULES = {
    "leads": "Leads & opportunities",
    "clients": "Clients & contacts",
    "proposals": "Proposals",
    "estimates": "Sales orders",
    "invoices": "Invoices",
    "payments": "Payments",
    "contracts": "Contracts",
    "goals": "Goals",
    "marketing": "Marketing",
    "items": "Items",
    "stock": "Stock & inventory",
    "receipts": "Goods receipts",
    "deliveries": "Deliveries & shipping",
    "vendors": "Vendors",
    "purchases": "Purchasing documents",
    "vendor_invoices": "Vendor invoices",
    "vendor_payments": "Vendor payments",
    "reports": "Reports",
    "staff": "Staff & roles",
    "settings": "Settings",
}
VERBS = ("view_own", "view", "create", "edit", "delete", "export")
VERB_LABELS = {"view_own": "View (own)", "view": "View (all)", "create": "Create", "edit": "Edit",
               "delete": "Delete", "export": "Export"}


def module_of(model) -> str:
    """The table's declared module; a table without one is a mistake in its declaration."""
    res = getattr(model, "__crm__", None)
    module = getattr(res, "module", None)
    if module not in MODULES:
        raise LookupError(f"{model.__name__}: __crm__ = Resource(module=...) must name one of {', '.join(MODULES)} "
                          f"(got {module!r}).")
    return module


def module_permissions() -> list[str]:
    return [f"{m}.{v}" for m in MODULES for v in VERBS]


def may(staff, model, verb: str) -> bool:
    """``verb`` on the table's module; "view" is either view own or view all, "view_all" only the latter."""
    from .auth import can

    module = module_of(model)
    if verb == "view":
        return can(staff, f"{module}.view") or can(staff, f"{module}.view_own")
    if verb == "view_all":
        return can(staff, f"{module}.view")
    return can(staff, f"{module}.{verb}")


def own_condition(staff, model):
    """None when ``staff`` sees every row of the table; otherwise the SQL condition for their own rows."""
    if may(staff, model, "view_all"):
        return None
    staffid = getattr(staff, "staffid", None)
    if staffid is None or not may(staff, model, "view"):
        return false()
    conditions = []
    for name in resource_of(model).own:
        if "." in name:  # through a many-to-one relationship: a contact is its client creator's
            rel, column = name.split(".", 1)
            attr = getattr(model, rel)
            conditions.append(attr.has(getattr(attr.property.mapper.class_, column) == staffid))
        else:
            conditions.append(getattr(model, name) == staffid)
    return or_(*conditions) if conditions else false()


def visible(query, staff, model):
    """``query`` on ``model`` narrowed to the rows ``staff`` may see."""
    condition = own_condition(staff, model)
    return query if condition is None else query.filter(condition)


def sees(staff, obj) -> bool:
    """Whether ``staff`` may see the row ``obj`` (its table's view permission, and own when view own)."""
    model = type(obj)
    condition = own_condition(staff, model)
    if condition is None:
        return True
    pk = getattr(model, primary_key(model))
    return db.session.query(db.session.query(model).filter(pk == getattr(obj, pk.key), condition).exists()).scalar()


def actions_by_module() -> dict[str, list]:
    from .actions import all_actions

    out: dict[str, list] = {m: [] for m in MODULES}
    for adef in sorted(all_actions(), key=lambda a: (a.resource, a.label)):
        out[module_of(adef.model)].append(adef)
    return out


def label_of(key: str) -> str:
    """A person's name for a permission key: "Invoices: Export", "Invoices: Send to ANAF"."""
    from .actions import all_actions

    if key.startswith("action:"):
        adef = next((a for a in all_actions() if a.permission == key), None)
        if adef is not None:
            return f"{resource_of(adef.model).label}: {adef.label}"
        return key
    module, _, verb = key.partition(".")
    return f"{MODULES.get(module, module)}: {VERB_LABELS.get(verb, verb)}"


# --- keys of the versions before modules: one permission area per menu group -----------------------

LEGACY_AREAS = {
    "sales": ("leads", "clients", "proposals", "estimates", "invoices", "contracts", "goals", "marketing"),
    "warehouse": ("items", "stock", "receipts", "deliveries"),
    "purchasing": ("vendors", "purchases", "vendor_invoices"),
    "finance": ("payments", "vendor_payments"),
    "settings": ("settings", "staff"),
}
LEGACY_VERBS = ("view", "create", "edit", "delete")
_LEGACY_AREA_OF_MODULE = {m: area for area, modules in LEGACY_AREAS.items() for m in modules}
_LEGACY_AREA_OF_MODULE["reports"] = "settings"


def legacy_area(model) -> str:
    """The area a table's keys had before modules (its menu group), for translating old roles."""
    category = getattr(getattr(model, "__crm__", None), "category", None)
    return (category or _LEGACY_AREA_OF_MODULE[module_of(model)]).lower()


def translate_legacy(keys) -> set[str]:
    """Old ``<area>.<verb>`` keys as the module keys that allow the same: each module of the area, and
    with "view" also export (every grid exported then) and, for sales, the reports."""
    out = set()
    for key in keys:
        area, _, verb = key.partition(".")
        if key.startswith("action:") or area not in LEGACY_AREAS or verb not in LEGACY_VERBS:
            out.add(key)
            continue
        for module in LEGACY_AREAS[area]:
            out.add(f"{module}.{verb}")
            if verb == "view":
                out.add(f"{module}.export")
        if key == "sales.view":
            out.add("reports.view")
    return out


def legacy_default_roles() -> dict[str, set[str]]:
    """What the documented roles were given before modules (to tell an admin's edits from defaults)."""
    from .actions import all_actions

    def area(a, verbs=LEGACY_VERBS):
        return {f"{a}.{v}" for v in verbs}

    def actions_in(*areas, resources=None):
        return {a.permission for a in all_actions()
                if legacy_area(a.model) in areas and (resources is None or a.resource in resources)}

    some = ("view", "create", "edit")
    return {
        "SDR": area("sales", some) | actions_in("sales", resources={"leads"}),
        "Sales Agent": area("sales", some) | {"warehouse.view"} | actions_in("sales"),
        "Sales Manager": area("sales") | {"finance.view", "warehouse.view", "purchasing.view"} | actions_in("sales"),
        "Warehouse": area("warehouse", some) | {"sales.view", "purchasing.view"} | actions_in("warehouse")
        | {"action:invoices.create_delivery_note", "action:pur_orders.create_goods_receipt"},
        "Purchasing": area("purchasing") | {"warehouse.view", "sales.view"} | actions_in("purchasing"),
        "Finance": area("finance") | {"sales.view", "purchasing.view"} | actions_in("finance")
        | actions_in("sales", resources={"invoices"}) | {"action:clients.record_advance_payment"}
        | actions_in("purchasing", resources={"pur_invoices"}),
    }


def upgrade_legacy_role(role, defaults: set[str] | None) -> set[str]:
    """A role's permissions in module keys. A documented role (``defaults`` given) takes the new
    defaults, less what the admin had taken away from the old ones, plus what the admin had added;
    another role keeps what it allowed, translated."""
    held = role.permission_set
    legacy = legacy_default_roles().get(role.name) if defaults is not None else None
    if legacy is None:
        return translate_legacy(held)
    removed = translate_legacy(legacy - held)
    added = translate_legacy(held - legacy)
    return (set(defaults) - removed) | added
