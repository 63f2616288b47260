"""Staff login, roles and permissions.

Permission keys: ``<area>.<verb>`` for tables (area = menu group, verb = view/create/edit/delete)
and ``action:<resource>.<action>`` for actions. Admin staff (``tblstaff.admin``) hold them all.
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
from .resources import CATEGORIES

VERBS = ("view", "create", "edit", "delete")
TOKEN_MAX_AGE = 12 * 3600


def all_permissions() -> list[str]:
    from .actions import all_actions

    return [f"{a.lower()}.{v}" for a in CATEGORIES for v in VERBS] + sorted(a.permission for a in all_actions())


def _area_perms(area: str, verbs=VERBS) -> list[str]:
    return [f"{area}.{v}" for v in verbs]


def default_roles() -> dict[str, list[str]]:
    """The roles the seeds name, with what each needs first. Admins edit them in Settings → Roles."""
    from .actions import all_actions
    from .resources import area_of

    def actions_in(*areas, resources=None):
        return [a.permission for a in all_actions()
                if area_of(a.model) in areas and (resources is None or a.resource in resources)]

    return {
        "SDR": _area_perms("sales", ("view", "create", "edit")) + actions_in("Sales", resources={"leads"}),
        "Sales Agent": _area_perms("sales", ("view", "create", "edit")) + ["warehouse.view"] + actions_in("Sales"),
        "Sales Manager": _area_perms("sales") + ["finance.view", "warehouse.view", "purchasing.view"]
        + actions_in("Sales"),
        "Warehouse": _area_perms("warehouse", ("view", "create", "edit")) + ["sales.view", "purchasing.view"]
        + actions_in("Warehouse") + ["action:invoices.create_delivery_note", "action:pur_orders.create_goods_receipt"],
        "Purchasing": _area_perms("purchasing") + ["warehouse.view", "sales.view"] + actions_in("Purchasing"),
        # Finance works on invoices (a Sales screen) and payments: collecting, cancelling, sending.
        "Finance": _area_perms("finance") + ["sales.view", "purchasing.view"] + actions_in("Finance")
        + actions_in("Sales", resources={"invoices"}) + ["action:clients.record_advance_payment"]
        + actions_in("Purchasing", resources={"pur_invoices"}),  # paying vendor invoices
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
    from .resources import area_of

    return can(staff, f"{area_of(model).lower()}.{verb}")


ROLE_DEFAULTS_OFFERED = "roles_defaults_offered"  # tbloptions: {role: the defaults it was last given}


def ensure_roles() -> None:
    """Create the documented roles if missing; on an existing install, grant each documented role the
    default permissions that have appeared since it was last synced (an upgrade's new screens and
    actions). What an admin removed was offered before, so it is never given back; a role that
    predates this record is left as it is and recorded, as its edits cannot be told apart."""
    from . import options
    from .models import Role

    offered = json.loads(options.get(ROLE_DEFAULTS_OFFERED) or "{}")
    roles = {r.name: r for r in db.session.query(Role).all()}
    for name, perms in default_roles().items():
        perms = set(perms)
        role = roles.get(name)
        if role is None:
            db.session.add(Role(name=name, permissions=json.dumps(sorted(perms))))
        elif name in offered and perms - set(offered[name]):
            role.permissions = json.dumps(sorted(role.permission_set | (perms - set(offered[name]))))
        offered[name] = sorted(perms)
    options.set(ROLE_DEFAULTS_OFFERED, json.dumps(offered, sort_keys=True))


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
