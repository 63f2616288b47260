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

from crm.core.extensions import db
from crm.core.resources import primary_key, resource_of

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


def permissions_of(staff) -> set[str]:
    staff = getattr(staff, "_get_current_object", lambda: staff)()  # current_user: resolved once, not per attribute
    if staff is None or not getattr(staff, "is_authenticated", False):
        return set()
    if staff.admin:
        return {"*"}
    return staff.role_rel.permission_set if staff.role_rel else set()

def can(staff, permission: str) -> bool:
    perms = permissions_of(staff)
    return "*" in perms or permission in perms

def can_table(staff, model, verb: str) -> bool:
    """``verb`` on the table's module; "view" allows view own or view all (crm/core/permissions.py)."""
    return may(staff, model, verb)


def may(staff, model, verb: str) -> bool:
    """``verb`` on the table's module; "view" is either view own or view all, "view_all" only the latter."""
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
