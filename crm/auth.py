"""Staff login, roles and permissions.

Permission keys: ``<module>.<verb>`` for tables (module and verbs: crm/permissions.py) and
``action:<resource>.<action>`` for actions. Admin staff (``tblstaff.admin``) hold them all.
"""
from __future__ import annotations

import json
from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from .extensions import db, login_manager
from .permissions import VERBS, module_permissions
TOKEN_MAX_AGE = 12 * 3600


def all_permissions() -> list[str]:
    from .actions import all_actions

    return module_permissions() + sorted(a.permission for a in all_actions())


def _grant(*modules: str, verbs=VERBS) -> list[str]:
    return [f"{m}.{v}" for m in modules for v in verbs]


def default_roles() -> dict[str, list[str]]:
    """The roles the seeds name, with what each needs first. Admins edit them in Settings → Roles;
    README.md shows the matrix."""
    from .actions import all_actions
    from .permissions import module_of

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


def permissions_of(staff) -> set[str]:
    if staff is None or not getattr(staff, "is_authenticated", False):
        return set()
    if staff.admin:
        return {"*"}
    return staff.role_rel.permission_set if staff.role_rel else set()


def can(staff, permission: str) -> bool:
    perms = permissions_of(staff)
    return "*" in perms or permission in perms


def can_table(staff, model, verb: str) -> bool:
    """``verb`` on the table's module; "view" allows view own or view all (crm/permissions.py)."""
    from .permissions import may

    return may(staff, model, verb)


ROLE_DEFAULTS_OFFERED = "roles_defaults_offered"  # tbloptions: {role: the defaults it was last given}
ROLE_KEYS = "roles_permission_keys"  # tbloptions: "modules" once roles hold module keys (not old area keys)


def ensure_roles() -> None:
    """Create the documented roles if missing; on an existing install, grant each documented role the
    default permissions that have appeared since it was last synced (an upgrade's new screens and
    actions). What an admin removed was offered before, so it is never given back; a role that
    predates this record is left as it is and recorded, as its edits cannot be told apart."""
    from . import options
    from .models import Role

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
    keys (crm/permissions.py upgrade_legacy_role); a documented role is then up to date."""
    from .permissions import upgrade_legacy_role

    defaults = default_roles()
    for name, role in roles.items():
        role.permissions = json.dumps(sorted(upgrade_legacy_role(role, defaults.get(name))))
        if name in defaults:
            offered[name] = sorted(defaults[name])


# --- API tokens ------------------------------------------------------------------------

def _serializer():
    from flask import current_app

    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="api-token")


def issue_token(staff) -> str:
    return _serializer().dumps({"staffid": staff.staffid, "pw": staff.password[-12:]})


def staff_from_token(token: str):
    """The active staff member a bearer token names, or None (expired, tampered, password changed)."""
    from .models import Staff

    try:
        data = _serializer().loads(token, max_age=TOKEN_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    staff = db.session.get(Staff, data.get("staffid"))
    if staff is None or not staff.active or staff.password[-12:] != data.get("pw"):
        return None
    return staff


def authenticate(email: str, password: str):
    from .models import Staff

    staff = db.session.query(Staff).filter(Staff.email == (email or "").strip().lower()).one_or_none()
    if staff and staff.active and staff.check_password(password or ""):
        return staff
    return None


@login_manager.user_loader
def load_user(staffid):
    from .models import Staff

    return db.session.get(Staff, int(staffid))


# --- login pages -----------------------------------------------------------------------

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    # Only looked up, never mailed: no deliverability rules (demo accounts use the .test domain).
    email = EmailField("Email", validators=[DataRequired(message="Enter your email.")])
    password = PasswordField("Password", validators=[DataRequired()])


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        staff = authenticate(form.email.data, form.password.data)
        if staff:
            login_user(staff)
            staff.last_login = datetime.utcnow()
            db.session.commit()
            nxt = request.args.get("next", "")
            return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//") else url_for("admin.index"))
        flash("Email or password is wrong.", "error")
    return render_template("auth/login.html", form=form), (401 if request.method == "POST" else 200)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/")
def root():
    return redirect(url_for("admin.index") if current_user.is_authenticated else url_for("auth.login"))
