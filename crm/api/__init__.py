"""The JSON API at /api/v1: CRUD for every table and every registered action, generated.

Resource names are table names without ``tbl``. Authentication is a bearer token from
``POST /api/v1/auth/token``; permissions are the admin's. OpenAPI at /api/v1/openapi.json.
"""
from __future__ import annotations

from apispec.ext.marshmallow import MarshmallowPlugin
from flask import g, jsonify, request
from flask_smorest import Api, Blueprint as ApiBlueprint
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import exists, inspect, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import selectinload

from crm.api.schemas import compositions, filter_schema_for, schema_for
from crm.core import audit, custom_fields as cf, lines as doc_lines, resources
from crm.core.auth import (
    TOKEN_MAX_AGE,
    authenticate,
    login_failed,
    login_refused,
    login_succeeded,
    new_token,
    revoke_token,
    sign_out_everywhere,
    staff_from_token,
)
from crm.core.entry import entered, removing
from crm.core.extensions import csrf, db
from crm.core.limits import INT_MAX
from crm.core.models.base import FieldError
from crm.core.models.settings import ApiToken
from crm.core.permissions import can_table, sees, visible
from crm.core.registry import ActionError, actions_for, run_outcome, who_writes
from crm.core.resources import (
    LINES, action_owned, columns, load_page, models_by_resource, primary_key, refused_door, resource_of, writable)
from crm.models import all_models

PREFIX = "/api/v1"


class CrmApi(Api):
    """flask-smorest, with every error answered in one shape: error, field at fault, details."""

    def handle_http_exception(self, error):
        if not request.path.startswith(PREFIX):
            return error  # admin and portal pages keep Flask's own error pages
        errors = (getattr(error, "data", None) or {}).get("messages")
        if errors:
            location_errors = next(iter(errors.values())) if len(errors) == 1 else errors
            field, msg = _first_error(location_errors)
            return error_response(error.code, f"{field}: {msg}", field, location_errors)
        if error.code == 405 and (model := _model_for_path(request.path)) is not None and not writable(model):
            return error_response(405, refused_door(model))
        return error_response(error.code or 500, error.description or error.name)


def _schema_name(schema) -> str:
    """Unique OpenAPI names: the partial (PATCH) variant of a schema gets its own."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema")
    if not isinstance(schema, type) and schema.partial:
        name += "Patch"
    return name


api = CrmApi(spec_kwargs={"marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=_schema_name)})
VERB = {"GET": "view", "POST": "create", "PUT": "edit", "PATCH": "edit", "DELETE": "delete"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None, errors=None):
        super().__init__(message)
        self.status, self.message, self.field, self.errors = status, message, field, errors


def error_response(status, message, field=None, errors=None):
    body = {"error": message, "status": status}
    if field:
        body["field"] = field
    if errors:
        body["errors"] = errors
    return jsonify(body), status


def _first_error(messages, prefix=""):
    """The first (field path, message) in a marshmallow error dict, e.g. ('items.0.qty', '...')."""
    if isinstance(messages, dict):
        key, val = next(iter(messages.items()))
        return _first_error(val, f"{prefix}{key}.")
    if isinstance(messages, list) and messages:
        return _first_error(messages[0], prefix)
    return prefix.rstrip("."), str(messages)


# --- persistence helpers ------------------------------------------------------------------

def _check_foreign_keys(model, data: dict, path=""):
    """Refuse ids that point at nothing, naming the field, for every foreign key column (with or
    without a relationship), before the database refuses the row less clearly."""
    checked = []
    for column in model.__table__.columns:
        value = data.get(column.key)
        if value in (None, 0) or not column.foreign_keys:  # 0: Perfex's "none" in some link columns
            continue
        checked.append((column, next(iter(column.foreign_keys)).column, value))
    if not checked:
        return
    # every reference in one statement: a boolean per column
    found = db.session.execute(select(*(exists().where(target == value) for _, target, value in checked))).one()
    for (column, target, value), there in zip(checked, found):
        if not there:
            mapper = next((m for m in db.Model.registry.mappers if m.local_table is target.table), None)
            res = resource_of(mapper.class_) if mapper is not None else None
            what = res.name if res is not None else target.table.name
            raise ApiError(422, f"{path}{column.key}: no {what} with id {value}.", field=f"{path}{column.key}")


def _refuse_action_owned(model, data: dict, obj, path="") -> dict:
    """Take the action-owned columns (crm.core.resources.action_owned) out of ``data``. A value equal to
    what the record holds (a record read, edited and sent back) passes; any other is a 422 that
    names the field and who writes it. Totals are returned, to be compared once computed."""
    owned = action_owned(model)
    totals = {}
    for key in [k for k in data if k in owned]:
        value = data.pop(key)
        if owned[key] == LINES:  # compared once computed; the stored one passes too (sent back as read)
            totals[key] = (value, getattr(obj, key) if obj is not None else None)
            continue
        column = model.__table__.c[key]
        default = column.default.arg if column.default is not None and not callable(column.default.arg) else None
        now = getattr(obj, key) if obj is not None else default
        if value != now:
            raise ApiError(422, f"{path}{key}: {who_writes(model, key)}.", field=f"{path}{key}")
    return totals


def _check_totals(obj, sent: dict, path: str = "") -> None:
    """The totals sent against those just computed, the lines' own amounts and their taxes' too: one
    that is neither the computed one nor the one stored (a record read, edited and sent back) is
    refused naming it, never quietly replaced."""
    for key, (value, stored) in sent.items():
        if value is not None and value != getattr(obj, key) and value != stored:
            raise ApiError(422, f"{path}{key}: {who_writes(type(obj), key)} (they give {getattr(obj, key)}, "
                                f"not {value}).", field=f"{path}{key}")
    for rel in compositions(type(obj)):
        for line in getattr(obj, rel.key) or []:
            line_path, line_sent = line.__dict__.pop("_crm_sent_totals", (None, None))
            if line_path is not None:
                _check_totals(line, line_sent, line_path)


def _build(model, data: dict, obj=None, path=""):
    """:func:`_build_rows` with nothing written before the commit (whose errors are answered)."""
    with db.session.no_autoflush:
        return _build_rows(model, data, obj, path)


def _build_rows(model, data: dict, obj=None, path=""):
    """Create or update ``obj`` from validated data, its nested children by id (:func:`_build_lines`).

    Custom fields are checked before anything is built and written with the row (same transaction)."""
    custom = None
    if not path and ("custom_fields" in data or (obj is None and cf.definitions(model))):
        try:
            custom = cf.validate(model, data.pop("custom_fields", None) or {}, creating=obj is None)
        except FieldError as exc:
            raise ApiError(422, f"{exc.field}: {exc.message}", field=exc.field) from None
    nested = {r.key: r for r in compositions(model)}
    children = {k: data.pop(k) for k in list(data) if k in nested}
    sent_totals = _refuse_action_owned(model, data, obj, path)
    _check_foreign_keys(model, data, path)
    if obj is None:
        obj = model()
    # Set the name-like keys first so validators that depend on them (options) see them.
    for key, value in sorted(data.items(), key=lambda kv: kv[0] != "name"):
        try:
            setattr(obj, key, value)
        except FieldError as exc:
            raise ApiError(422, f"{path}{exc.field}: {exc.message}", field=f"{path}{exc.field}") from None
    for key, rows in children.items():
        setattr(obj, key, _build_lines(nested[key], obj, rows, f"{path}{key}."))
    if not path:
        try:
            entered(obj, g.api_user)  # creator, totals, an invoice's status and freeze, the number
        except FieldError as exc:  # 422, or 403 for a record the staff member may not see (rel_id)
            raise ApiError(getattr(exc, "status", 422), f"{exc.field}: {exc.message}", field=exc.field) from None
        _check_totals(obj, sent_totals)
    else:  # a line: its amounts are computed with its document's (entered), checked then
        obj._crm_sent_totals = (path, sent_totals)
    obj._crm_cf_pending = custom  # written by _commit, in the row's transaction
    return obj


def _build_lines(rel, obj, rows, path):
    """The children of ``obj`` in ``rel`` (a document's lines, a line's taxes) as sent: each sent
    with its id updated in place, each without added, the others removed (crm/core/lines.py)."""
    child = rel.mapper.class_
    rows = [dict(row) for row in rows or []]
    pk = primary_key(child)
    order = doc_lines.order_column(rel)
    if order is not None:  # a line sent without its position takes the one it is sent at
        for i, row in enumerate(rows):
            row.setdefault(order, i + 1)
    stored = getattr(obj, rel.key) if inspect(obj).persistent else []
    try:
        return doc_lines.merge(child, stored, [row.pop(pk, None) for row in rows],
                               lambda i, line: _build_rows(child, rows[i], line, path=f"{path}{i}."), path)
    except FieldError as exc:
        raise ApiError(422, f"{exc.field}: {exc.message}", field=exc.field) from None


KEEPS_WHAT_IS_WRITTEN = ("sqlite", "postgresql")


def _commit(message_subject: str, obj=None):
    session = db.session()
    keep = session.expire_on_commit
    # What was just written is what the answer shows: not read again after the commit (as an
    # action's commit, crm/core/registry.py); values the database makes are still read (the ORM
    # expires them at the flush). MariaDB/MySQL read back times without their microseconds: there
    # the answer is read again, so it stays what a GET shows.
    if session.get_bind().dialect.name in KEEPS_WHAT_IS_WRITTEN:
        session.expire_on_commit = False
    try:
        if getattr(obj, "_crm_cf_pending", None):
            cf.save(obj, obj._crm_cf_pending)
        session.commit()
    except FieldError as exc:  # a rule checked at flush (e.g. a select custom field without choices)
        db.session.rollback()
        raise ApiError(422, f"{exc.field}: {exc.message}", field=exc.field) from None
    except IntegrityError as exc:
        db.session.rollback()
        detail = str(exc.orig).splitlines()[0]
        raise ApiError(409, f"{message_subject} conflicts with existing data: {detail}") from None
    except DataError as exc:  # a value the schema let through but the column cannot hold
        db.session.rollback()
        detail = str(exc.orig).splitlines()[0]
        raise ApiError(422, f"{message_subject}: a value does not fit its column: {detail}") from None
    finally:
        session.expire_on_commit = keep


# --- generated endpoints ---------------------------------------------------------------------

def _register_resource(model):
    res = resource_of(model)
    name = res.name
    pk = primary_key(model)
    Schema_ = schema_for(model)
    Filter = filter_schema_for(model)
    eager = [selectinload(getattr(model, r.key)) for r in compositions(model)]
    eager += [selectinload(getattr(model, r.key)).selectinload(getattr(r.mapper.class_, rr.key))
              for r in compositions(model) for rr in compositions(r.mapper.class_)]
    bp = ApiBlueprint(f"api_{name}", f"crm.api.{name}", url_prefix=f"{PREFIX}/{name}",
                      description=f"{res.label} (table {model.__tablename__})")
    col_keys = {c.key for c in columns(model)}

    def get_or_404(obj_id):
        obj = db.session.get(model, obj_id) if obj_id <= INT_MAX else None  # (a larger id names no row)
        if obj is None or not sees(g.api_user, obj):  # view own: another's record is not there for them
            raise ApiError(404, f"{name} #{obj_id} does not exist.")
        return obj

    @bp.route("", endpoint="list", methods=["GET"])
    @bp.arguments(Filter, location="query", as_kwargs=True, unknown=RAISE)
    @bp.response(200, Schema_(many=True))
    def list_(page, page_size, **filters):
        """List, filtered by column equality, newest first."""
        q = visible(db.session.query(model).options(*eager), g.api_user, model)
        for key, value in filters.items():
            if key in col_keys:
                q = q.filter(getattr(model, key) == value)
        total = q.order_by(None).count()
        rows = q.order_by(getattr(model, pk).desc()).offset((page - 1) * page_size).limit(page_size).all()
        cf.prefetch(model, rows)  # one query for the custom fields of the whole page
        load_page(model, rows, "api")  # what the rows' values need, for the whole page at once
        g.api_pagination = {"total": total, "page": page, "page_size": page_size}
        return rows

    @bp.route("/<int:obj_id>", endpoint="read", methods=["GET"])
    @bp.response(200, Schema_)
    def read(obj_id):
        return get_or_404(obj_id)

    if writable(model):  # a read-only table, or a document's lines, has no write door (nor one in the OpenAPI document)
        _register_writes(bp, model, Schema_, get_or_404)
    for adef in actions_for(model):
        _register_action(bp, model, adef)
    return bp


def _register_writes(bp, model, Schema_, get_or_404):
    """POST, PATCH/PUT and DELETE of a table that people may write (action-owned columns excepted)."""
    name = resource_of(model).name

    @bp.route("", endpoint="create", methods=["POST"])
    @bp.arguments(Schema_)
    @bp.response(201, Schema_)
    @audit.audited("api")
    def create(data):
        obj = _build(model, data)
        db.session.add(obj)
        _commit(name, obj)
        return obj

    @bp.route("/<int:obj_id>", endpoint="update", methods=["PATCH", "PUT"])
    @bp.arguments(Schema_(partial=True))
    @bp.response(200, Schema_)
    @audit.audited("api")
    def update(data, obj_id):
        obj = _build(model, data, get_or_404(obj_id))
        _commit(name, obj)
        return obj

    @bp.route("/<int:obj_id>", endpoint="delete", methods=["DELETE"])
    @bp.response(204)
    @audit.audited("api")
    def delete(obj_id):
        with db.session.no_autoflush:  # the delete is written by the commit, whose errors are answered
            obj = get_or_404(obj_id)
            try:
                removing(obj)
            except FieldError as exc:
                raise ApiError(409, exc.message, field=exc.field) from None
            db.session.delete(obj)
            if cf.fieldto_of(model):
                cf.delete_values(model, obj_id)
        _commit(f"Deleting {name} #{obj_id}")


class CreatedRecord(Schema):
    resource = fields.String(metadata={"description": "The API resource, e.g. invoices."})
    id = fields.Raw(metadata={"description": "The new record's id."})
    name = fields.String(metadata={"description": "Its number or name, as a person sees it (INV-2026-0012)."})
    url = fields.String(allow_none=True, metadata={"description": "Its page in the admin."})
    api_url = fields.String(metadata={"description": "GET it here."})


class ActionResult(Schema):
    ok = fields.Boolean()
    message = fields.String()
    id = fields.Integer(metadata={"description": "The first record created (or the one the action returns)."})
    created = fields.List(fields.Nested(CreatedRecord), metadata={
        "description": "Every record the action created, with its id and URLs: no read is needed after it."})


def _register_action(bp, model, adef):
    body_fields = {f.name: fields.Raw(required=f.flags.required, metadata={"description": f.label.text})
                   for f in adef.params}
    Body = type(f"{model.__name__}{adef.name.title().replace('_', '')}Params", (Schema,), body_fields)

    def view(data, obj_id):
        outcome = run_outcome(model, obj_id, adef.name, g.api_user, data)
        result = outcome.result
        out = {"ok": True, "message": outcome.message(adef), "created": [c.as_dict() for c in outcome.created]}
        if hasattr(result, "__table__"):
            out["id"] = getattr(result, primary_key(type(result)))
        elif outcome.created:
            out["id"] = outcome.created[0].id
        return out

    view.__name__ = f"action_{adef.name}"
    view.__doc__ = f"{adef.label}. Permission: {adef.permission}."
    bp.route(f"/<int:obj_id>/actions/{adef.name}", endpoint=f"action_{adef.name}", methods=["POST"])(
        bp.arguments(Body)(bp.response(200, ActionResult)(view)))


# --- auth ------------------------------------------------------------------------------------

auth_bp = ApiBlueprint("api_auth", "crm.api.auth", url_prefix=f"{PREFIX}/auth", description="Bearer tokens")


class Credentials(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True)
    name = fields.String(load_default=None, validate=validate.Length(max=100),
                         metadata={"description": "A label to recognise the token by in the list."})


class TokenOut(Schema):
    token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    id = fields.Integer(metadata={"description": "The token's id in GET /api/v1/auth/tokens."})


class TokenInfo(Schema):
    id = fields.Integer()
    name = fields.String()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime()
    expires_at = fields.DateTime()
    revoked_at = fields.DateTime()
    state = fields.String(metadata={"description": "active, expired or revoked"})
    current = fields.Method("_current", metadata={"description": "True for the token this request uses."})

    def _current(self, row):
        return row.id == getattr(g, "api_token_id", None)


@auth_bp.route("/token", methods=["POST"])
@auth_bp.arguments(Credentials)
@auth_bp.response(200, TokenOut)
def token(creds):
    """Exchange email and password for a bearer token. Repeated failures for an account or from an
    address are answered 429 with Retry-After (seconds)."""
    refused = login_refused(creds["email"])
    if refused:
        resp, status = error_response(429, refused[1])
        resp.headers["Retry-After"] = str(refused[0])
        return resp, status
    staff = authenticate(creds["email"], creds["password"])
    if staff is None:
        login_failed(creds["email"])
        db.session.commit()
        raise ApiError(401, "Email or password is wrong.", field="password")
    login_succeeded(creds["email"])
    row, secret = new_token(staff, creds.get("name"))
    db.session.commit()
    return {"token": secret, "token_type": "Bearer", "expires_in": TOKEN_MAX_AGE, "id": row.id}


@auth_bp.route("/tokens", methods=["GET"])
@auth_bp.response(200, TokenInfo(many=True))
def tokens():
    """Your API tokens, newest first (revoked and expired ones for a month)."""
    return (db.session.query(ApiToken).filter(ApiToken.staffid == g.api_user.staffid)
            .order_by(ApiToken.id.desc()).all())


@auth_bp.route("/tokens", methods=["DELETE"])
@auth_bp.response(204)
def revoke_all_tokens():
    """Sign out everywhere: revoke all your tokens (this one too) and end your browser sessions."""
    sign_out_everywhere(g.api_user)
    db.session.commit()


@auth_bp.route("/tokens/<int:token_id>", methods=["DELETE"])
@auth_bp.response(204)
def revoke(token_id):
    """Revoke one of your tokens (administrators: anyone's)."""
    row = db.session.get(ApiToken, token_id) if token_id <= INT_MAX else None
    if row is None or (row.staffid != g.api_user.staffid and not g.api_user.admin):
        raise ApiError(404, f"You have no API token #{token_id}.")
    revoke_token(row)
    db.session.commit()


# --- wiring ----------------------------------------------------------------------------------

PUBLIC = {f"{PREFIX}/auth/token", f"{PREFIX}/openapi.json"}


def init_api(app):
    resources.serialise_with(lambda obj: schema_for(type(obj))().dump(obj))  # a webhook's record, as here
    app.config.setdefault("API_TITLE", "CRMConnect API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"}}}, "security": [{"bearer": []}]})
    api.init_app(app)
    api.register_blueprint(auth_bp)
    for model in all_models():
        if resource_of(model).api:
            api.register_blueprint(_register_resource(model))
    for bp_name in list(app.blueprints):
        if bp_name.startswith("api_"):
            csrf.exempt(app.blueprints[bp_name])  # bearer tokens, not cookies: CSRF does not apply

    @app.before_request
    def _api_auth():
        path = request.path
        if not path.startswith(PREFIX) or path in PUBLIC:
            return None
        header = request.headers.get("Authorization", "")
        staff = staff_from_token(header[7:].strip()) if header.startswith("Bearer ") else None
        if staff is None:
            return error_response(401, "Send a valid token: Authorization: Bearer <token> "
                                       f"(get one from POST {PREFIX}/auth/token).")
        g.api_user = staff
        view_model = _model_for_path(path)
        if view_model is not None and "/actions/" not in path:
            if not can_table(staff, view_model, VERB.get(request.method, "view")):
                return error_response(403, f"You may not {VERB.get(request.method, 'view')} "
                                           f"{resource_of(view_model).name}.")
        return None

    @app.after_request
    def _pagination_headers(response):
        info = g.pop("api_pagination", None)
        if info:
            response.headers["X-Total-Count"] = str(info["total"])
            response.headers["X-Page"] = str(info["page"])
            response.headers["X-Page-Size"] = str(info["page_size"])
        return response

    @app.errorhandler(ApiError)
    def _api_error(exc):
        return error_response(exc.status, exc.message, exc.field, exc.errors)

    @app.errorhandler(ActionError)
    def _action_error(exc):
        errors = getattr(exc, "errors", None)
        return error_response(exc.status, exc.message, exc.field, errors)


def _model_for_path(path: str):
    parts = path[len(PREFIX) + 1:].split("/")
    return models_by_resource().get(parts[0]) if parts and parts[0] else None
