"""Staff, roles, options and custom fields: the tables that configure the system."""
from __future__ import annotations

import json
import re
from datetime import datetime
from functools import lru_cache

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect as sa_inspect,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from crm.core import options
from crm.core.extensions import db
from crm.core.models.base import FieldError, Resource, fk


@lru_cache(maxsize=256)
def _parsed_permissions(text: str) -> frozenset[str]:
    """A role's JSON list of permission keys, parsed once per distinct text (every menu entry and
    row action asks)."""
    try:
        return frozenset(json.loads(text))
    except ValueError:
        return frozenset()


class Role(db.Model):
    __tablename__ = "tblroles"
    __crm__ = Resource(module="staff", label="Roles", category="Settings", url="roles")

    roleid: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(150), unique=True)
    # JSON list of permission keys, e.g. ["leads.view_own", "action:leads.mark_lost"] (crm/core/permissions.py).
    permissions: Mapped[str] = mapped_column(Text, default="[]")

    @property
    def permission_set(self) -> set[str]:
        return set(_parsed_permissions(self.permissions or "[]"))

    def __str__(self):
        return self.name


class Staff(UserMixin, db.Model):
    __tablename__ = "tblstaff"
    __crm__ = Resource(module="staff", own=("staffid",), label="Staff", category="Settings", url="staff", lookup=True,
                       action_owned=("last_login",),  # set when they sign in
                       admin={"column_exclude_list": ["password", "session_version"],
                              "form_excluded_columns": ["password", "session_version"],
                              "column_details_exclude_list": ["password", "session_version"]})

    staffid: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(100), unique=True)
    firstname: Mapped[str] = mapped_column(String(50))
    lastname: Mapped[str] = mapped_column(String(50), default="")
    phonenumber: Mapped[str | None] = mapped_column(String(30))
    password: Mapped[str] = mapped_column(String(255), default="")
    datecreated: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    role: Mapped[int | None] = fk("tblroles.roleid")
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    last_login: Mapped[datetime | None] = mapped_column(DateTime)
    # Carried in the login cookie with the id: raising it signs the staff member out of every browser.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    role_rel = relationship(Role)

    def get_id(self):
        """What Flask-Login keeps in the session cookie: id and session version (see auth.load_user)."""
        return f"{self.staffid}:{self.session_version or 1}"

    def end_sessions(self) -> None:
        """Sign out every browser of this staff member (the cookies carry the previous version)."""
        self.session_version = Staff.session_version + 1  # in SQL: two concurrent ends both count

    @property
    def is_active(self):
        return bool(self.active)

    def set_password(self, raw: str) -> None:
        self.password = generate_password_hash(raw)

    def check_password(self, raw: str) -> bool:
        return bool(self.password) and check_password_hash(self.password, raw)

    @property
    def full_name(self) -> str:
        return f"{self.firstname} {self.lastname}".strip()

    def __str__(self):
        return self.full_name or self.email


def _was_active_admin(staff) -> bool:
    state = sa_inspect(staff)
    before = {key: (state.attrs[key].history.deleted or [getattr(staff, key)])[0] for key in ("admin", "active")}
    return bool(before["admin"] and before["active"])


def _another_active_admin(connection, staff_id) -> bool:
    t = Staff.__table__
    return connection.execute(select(t.c.staffid).where(t.c.admin.is_(True), t.c.active.is_(True),
                                                         t.c.staffid != staff_id).limit(1)).first() is not None


@event.listens_for(Staff, "before_update")
def _keep_an_administrator(mapper, connection, staff):
    """Nobody, from any door, takes away the last active administrator: the system would be left
    with no one able to manage staff, roles and settings."""
    if _was_active_admin(staff) and not (staff.admin and staff.active) \
            and not _another_active_admin(connection, staff.staffid):
        field = "admin" if not staff.admin else "active"
        raise FieldError(field, f"{staff} is the last active administrator; make someone else an administrator "
                                "first.")


@event.listens_for(Staff, "before_update")
def _credentials_changed(mapper, connection, staff):
    """A new password or a deactivation, from whatever door (grid, API, CLI), ends every browser
    session and revokes every API token of that staff member."""
    state = sa_inspect(staff)
    if state.attrs.password.history.has_changes() or (
            not staff.active and state.attrs.active.history.has_changes()):
        staff.end_sessions()
        revoke_api_tokens(connection, staff.staffid)


def revoke_api_tokens(connection, staffid: int) -> None:
    t = ApiToken.__table__
    connection.execute(update(t).where(t.c.staffid == staffid, t.c.revoked_at.is_(None))
                       .values(revoked_at=datetime.utcnow()))


class ApiToken(db.Model):
    """A bearer token issued to a staff member. Only a hash of its secret is kept; the secret is
    shown once, when issued. Listed and revoked one by one (My API tokens, /api/v1/auth/tokens)."""

    __tablename__ = "tblstaff_api_tokens"
    __crm__ = Resource(module="staff", own=("staffid",), label="API tokens", readonly=True)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staffid: Mapped[int] = fk("tblstaff.staffid", nullable=False)
    name: Mapped[str] = mapped_column(String(100), default="API token")
    hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the secret
    created_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    staff = relationship(Staff)

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= datetime.utcnow() else "active"

    def __str__(self):
        return f"{self.name} #{self.id}"


class SavedView(db.Model):
    """A grid's filters, sort and search saved under a name by a staff member (a "view"); shared
    views appear on that grid for every colleague. Written only by the grid's save and delete
    buttons (crm/admin_views/saved_views.py): the owner and the time are the server's."""

    __tablename__ = "tblsaved_views"
    __crm__ = Resource(module="staff", own=("staff_id",), label="Saved views", readonly=True, api=False,
                       action_owned=("staff_id", "grid"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = fk("tblstaff.staffid", nullable=False)
    grid: Mapped[str] = mapped_column(String(100), index=True)  # the grid's endpoint, e.g. invoices
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(Text, default="")  # the grid's query string (filters, sort, search)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)

    staff = relationship(Staff)

    def __str__(self):
        return self.name


@event.listens_for(Staff, "before_delete")
def _keep_an_administrator_on_delete(mapper, connection, staff):
    if _was_active_admin(staff) and not _another_active_admin(connection, staff.staffid):
        raise FieldError("staffid", f"{staff} is the last active administrator and cannot be deleted; make someone "
                                    "else an administrator first.")


class Option(db.Model):
    """tbloptions: name/value pairs. Read them through crm.core.options, which knows types and defaults."""

    __tablename__ = "tbloptions"
    __crm__ = Resource(module="settings", label="All options", category="Settings", url="settings/options")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(191), unique=True)
    value: Mapped[str] = mapped_column(Text, default="")
    autoload: Mapped[bool] = mapped_column(Boolean, default=True)

    @validates("value")
    def _typed(self, key, value):
        """A known option must hold a value of its type (INVOICE_DUE_AFTER is a whole number)."""
        defn = options.OPTIONS.get(self.name or "")
        if defn is not None:
            try:
                parsed = options.parse(defn, value)
                options.check(defn.name, parsed)
                return options.serialize(defn, parsed)
            except options.OptionError as exc:
                raise FieldError("value", str(exc)) from None
        return value

    def __str__(self):
        return self.name


# tblcustomfields.fieldto: the tables that carry custom fields (Perfex's keys), and the field types.
CUSTOM_FIELD_TABLES = {"leads": "Leads", "customers": "Customers", "proposal": "Proposals",
                       "invoice": "Invoices", "estimate": "Sales orders", "contracts": "Contracts"}
CUSTOM_FIELD_TYPES = {"input": "Text", "number": "Number", "textarea": "Long text", "date": "Date",
                      "select": "Select (one option)", "multiselect": "Multi-select",
                      "checkbox": "Checkbox (yes/no)"}
CHOICE_TYPES = ("select", "multiselect")


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", (text or "").lower()).strip("_")[:140] or "field"


def options_of(field) -> list[str]:
    """The choices of a select/multiselect, written comma-separated in tblcustomfields.options."""
    return [o.strip() for o in (field.options or "").split(",") if o.strip()]


class CustomField(db.Model):
    """Admin-defined fields on leads, clients, proposals, invoices (Perfex tblcustomfields)."""

    __tablename__ = "tblcustomfields"
    __crm__ = Resource(module="settings",
        label="Custom fields", category="Settings", url="custom_fields",
        admin={"column_list": ["fieldto", "name", "slug", "type", "options", "required", "active",
                               "show_on_table", "field_order"],
               "form_columns": ["fieldto", "name", "type", "options", "required", "active", "show_on_table",
                                "field_order", "slug"],
               "form_args": {"options": {"description": "Choices of a select or multi-select, separated by commas."},
                             "slug": {"description": "Key in the API (custom_fields.<slug>); left empty, "
                                                     "it is made from the name."}},
               "form_choices": {"fieldto": list(CUSTOM_FIELD_TABLES.items()),
                                "type": list(CUSTOM_FIELD_TYPES.items())}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fieldto: Mapped[str] = mapped_column(String(30), index=True)  # 'leads', 'customers', 'proposal', 'invoice'
    name: Mapped[str] = mapped_column(String(150))
    slug: Mapped[str] = mapped_column(String(150), default="")  # empty: made from the name on save
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    type: Mapped[str] = mapped_column(String(20), default="input")  # input, number, date, select, textarea
    options: Mapped[str | None] = mapped_column(Text)
    field_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    show_on_table: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (UniqueConstraint("fieldto", "slug"),)

    @validates("fieldto")
    def _known_table(self, key, value):
        if value not in CUSTOM_FIELD_TABLES:
            raise FieldError("fieldto", f"must be one of {', '.join(CUSTOM_FIELD_TABLES)}.")
        return value

    @validates("type")
    def _known_type(self, key, value):
        if value not in CUSTOM_FIELD_TYPES:
            raise FieldError("type", f"must be one of {', '.join(CUSTOM_FIELD_TYPES)}.")
        return value

    @validates("slug")
    def _slug(self, key, value):
        return slugify(value) if value else value

    def __str__(self):
        return self.name


class CustomFieldValue(db.Model):
    __tablename__ = "tblcustomfieldsvalues"
    # Written only with their record (its form, its API's custom_fields, crm/core/custom_fields.py), which
    # checks the record's own permissions and the field's type; no generic door of their own.
    __crm__ = Resource(module="settings", label="Custom field values",
                       written_as="a record's custom fields: send them as its custom_fields "
                                  "(PATCH /api/v1/<resource>/<id>) or on its form")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    relid: Mapped[int] = mapped_column(Integer, index=True)
    fieldid: Mapped[int] = fk("tblcustomfields.id", nullable=False)
    fieldto: Mapped[str] = mapped_column(String(30), index=True)
    value: Mapped[str | None] = mapped_column(Text)

    field = relationship(CustomField)


@db.event.listens_for(CustomField, "before_insert")
@db.event.listens_for(CustomField, "before_update")
def _custom_field_ready(mapper, connection, field):
    """A slug made from the name when none is given (unique within its table); choices for selects."""
    if field.type in CHOICE_TYPES and not options_of(field):
        raise FieldError("options", f"a {field.type} field needs its choices, separated by commas.")
    if not field.slug:
        base = slugify(field.name)
        taken = set(connection.scalars(select(CustomField.slug).where(
            CustomField.fieldto == field.fieldto, CustomField.slug.like(f"{base}%"))))
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}_{n}", n + 1
        field.slug = slug
