"""The role catalogue: every permission key, the documented roles' defaults, keeping roles in step
on each release (`crm sync-roles`), and the keys of the versions before modules.

Above the action registry (each action is a permission); crm/core/permissions.py, below it, checks keys."""
from __future__ import annotations

import json

from crm.core import options
from crm.core.extensions import db
from crm.core.models.settings import Role
from crm.core.permissions import MODULES, VERB_LABELS, VERBS, module_of, module_permissions
from crm.core.registry import all_actions
from crm.core.resources import resource_of


def all_permissions() -> list[str]:
    return module_permissions() + sorted(a.permission for a in all_actions())


def _grant(*modules: str, verbs=VERBS) -> list[str]:
    return [f"{m}.{v}" for m in modules for v in verbs]


def default_roles() -> dict[str, list[str]]:
    """The roles the seeds name, with what each needs first. Admins edit them in Settings → Roles;
    README.md shows the matrix."""

    def actions_of(*modules, only=None, but=()):
        return [a.permission for a in all_actions() if module_of(a.model) in modules
                and (only is None or a.name in only) and a.name not in but]

    own_work = ("view_own", "create", "edit")
    run = ("view", "create", "edit", "export")
    read = ("view", "export")
    sales = ("leads", "clients", "proposals", "estimates", "invoices", "contracts", "goals", "marketing")
    money = {a.name for a in all_actions() if a.name.startswith("efactura_")} | {
        "record_payment", "apply_advance", "mark_cancelled", "unmark_cancelled", "record_advance_payment"}
    return {
        # Finds and qualifies leads: their own, never a client's documents, no export.
        "SDR": _grant("leads", verbs=own_work) + ["goals.view_own"] + actions_of("leads"),
        # Sells to their own leads and clients (and exports those); sees the invoices of their sales,
        # neither cancels them nor sends them to ANAF.
        "Sales Agent": _grant("leads", "clients", "proposals", "estimates", "contracts", verbs=(*own_work, "export"))
        + ["invoices.view_own", "goals.view_own", "items.view", "stock.view"]
        + actions_of("leads", "clients", "proposals", "estimates", "contracts", but=money)
        + actions_of("invoices", only={"send", "create_delivery_note"}),
        # The whole sales book, its exports and reports; money (payments, cancelling, e-Factura) is Finance's.
        "Sales Manager": _grant(*sales) + _grant("payments", "items", "stock", "deliveries", verbs=("view",))
        + ["reports.view"] + actions_of(*sales, but=money),
        # Stock and its documents; receives purchase orders; no invoices, contracts or revenue.
        "Warehouse": _grant("items", "stock", "receipts", "deliveries", verbs=run) + ["purchases.view"]
        + actions_of("stock", "receipts", "deliveries") + ["action:pur_orders.create_goods_receipt"],
        # Vendors and purchasing documents; sees vendor payments, Finance makes them.
        "Purchasing": _grant("vendors", "purchases") + _grant("vendor_invoices", verbs=run)
        + _grant("vendor_payments", verbs=read) + _grant("items", verbs=("view", "create", "edit"))
        + _grant("stock", "receipts", verbs=("view",))
        + actions_of("vendors", "purchases") + actions_of("vendor_invoices", but=money),
        # Invoices, payments and e-Factura; reads clients, sales orders and contracts; pays vendor invoices.
        "Finance": _grant("invoices", verbs=run) + _grant("payments")
        + _grant("clients", "vendor_invoices", "vendor_payments", verbs=read)
        + _grant("contracts", "estimates", "items", "reports", verbs=("view",))
        + actions_of("invoices", "payments") + ["action:clients.record_advance_payment",
                                                 "action:pur_invoices.record_payment"],
    }


ROLE_DEFAULTS_OFFERED = "roles_defaults_offered"  # tbloptions: {role: the defaults it was last given}
ROLE_KEYS = "roles_permission_keys"  # tbloptions: "modules" once roles hold module keys (not old area keys)


def ensure_roles() -> None:
    """Create the documented roles if missing; on an existing install, grant each documented role the
    default permissions that have appeared since it was last synced (an upgrade's new screens and
    actions). What an admin removed was offered before, so it is never given back; a role that
    predates this record is left as it is and recorded, as its edits cannot be told apart."""
    offered = json.loads(options.get(ROLE_DEFAULTS_OFFERED) or "{}")
    roles = {r.name: r for r in db.session.query(Role).all()}
    if options.get(ROLE_KEYS) != "modules":
        _upgrade_area_keys(roles, offered)
        options.set(ROLE_KEYS, "modules")
    for name, perms in default_roles().items():
        perms = set(perms)
        role = roles.get(name)
        if role is None:
            db.session.add(Role(name=name, permissions=json.dumps(sorted(perms))))
        elif name in offered and perms - set(offered[name]):
            role.permissions = json.dumps(sorted(role.permission_set | (perms - set(offered[name]))))
        offered[name] = sorted(perms)
    options.set(ROLE_DEFAULTS_OFFERED, json.dumps(offered, sort_keys=True))


def _upgrade_area_keys(roles: dict, offered: dict) -> None:
    """Once, on an install whose roles hold the old ``sales.view``-style keys: every role in module
    keys (upgrade_legacy_role below); a documented role is then up to date."""
    defaults = default_roles()
    for name, role in roles.items():
        role.permissions = json.dumps(sorted(upgrade_legacy_role(role, defaults.get(name))))
        if name in defaults:
            offered[name] = sorted(defaults[name])


def actions_by_module() -> dict[str, list]:
    out: dict[str, list] = {m: [] for m in MODULES}
    for adef in sorted(all_actions(), key=lambda a: (a.resource, a.label)):
        out[module_of(adef.model)].append(adef)
    return out


def label_of(key: str) -> str:
    """A person's name for a permission key: "Invoices: Export", "Invoices: Send to ANAF"."""
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
