"""`flask --app wsgi crm ...`: actions, demo data, admin account, periodic jobs."""
from __future__ import annotations

import json
import sys

import click
from flask import current_app, g
from flask.cli import AppGroup
from marshmallow import ValidationError

from crm.api import ApiError, _build, _commit, _first_error
from crm.api.schemas import schema_for
from crm.core import audit, custom_fields as cf
from crm.core.entry import removing
from crm.core.extensions import db
from crm.core.limits import INT_MAX
from crm.core.mail import ensure_email_templates
from crm.core.models.base import FieldError
from crm.core.models.settings import Staff
from crm.core.permissions import can_table, sees
from crm.core.registry import ActionError, run
from crm.core.resources import models_by_resource, refused_door, resource_of, writable
from crm.core.roles import ensure_roles
from crm.demo import load, public_base
from crm.jobs.periodic import PERIODIC
from crm.reports.rollup import rebuild

crm_cli = AppGroup("crm", help="CRMConnect commands.")


def _admin_account(email: str, password: str, reset: bool = True):
    """Create the administrator (and the documented roles); ``reset`` also resets the password."""
    ensure_roles()
    ensure_email_templates()
    staff = db.session.query(Staff).filter_by(email=email.lower()).one_or_none()
    created = staff is None
    if created:
        staff = Staff(email=email.lower(), firstname="Admin", lastname="", admin=True, active=True)
        db.session.add(staff)
    staff.admin = True
    if created or reset:
        staff.set_password(password)
    db.session.commit()
    return created


@crm_cli.command("create-admin")
@click.option("--email", default=None, help="Default: CRM_ADMIN_EMAIL")
@click.option("--password", default=None, help="Default: CRM_ADMIN_PASSWORD")
def create_admin(email, password):
    """Create (or reset) the administrator account."""
    email = email or current_app.config["CRM_ADMIN_EMAIL"]
    _admin_account(email, password or current_app.config["CRM_ADMIN_PASSWORD"])
    click.echo(f"Administrator: {email}")


@crm_cli.command("sync-roles")
def sync_roles():
    """Create missing documented roles and grant them permissions new in this version (release step);
    roles still holding the old area keys (``sales.view``) move to module keys once."""
    ensure_roles()
    db.session.commit()
    click.echo("Roles are up to date.")


def _model_of(resource: str):
    model = models_by_resource().get(resource)
    if model is None:
        raise click.UsageError(f"Unknown resource {resource!r}. Known: {', '.join(sorted(models_by_resource()))}")
    return model


def _key_values(params) -> dict:
    data = {}
    for p in params:
        if "=" not in p:
            raise click.UsageError(f"Parameter {p!r} must be written key=value.")
        k, v = p.split("=", 1)
        data[k] = v
    return data


def _actor(as_email):
    email = (as_email or current_app.config["CRM_ADMIN_EMAIL"]).lower()
    actor = db.session.query(Staff).filter_by(email=email).one_or_none()
    if actor is None:
        raise click.UsageError(f"No staff member with email {email}.")
    return actor


AS_OPTION = click.option("--as", "as_email", default=None, help="Staff email to act as (default: the administrator).")


@crm_cli.command("action")
@click.argument("resource")
@click.argument("obj_id", type=int)
@click.argument("name")
@click.argument("params", nargs=-1)
@AS_OPTION
def run_action(resource, obj_id, name, params, as_email):
    """Run an action: crm action leads 12 mark_lost reason="No budget"."""
    model = _model_of(resource)
    data = _key_values(params)
    actor = _actor(as_email)
    try:
        result = run(model, obj_id, name, actor, data)
    except ActionError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)
    click.echo(result if isinstance(result, str) else "done")


record_cli = AppGroup("record", help="Create, change and delete records as the API does (audited).")
crm_cli.add_command(record_cli)


def _write_record(resource, obj_id, params, as_email, json_data, verb):
    """The API's own path (schema, _build, _commit): the same checks, the same refusals, the
    audit trail's "cli" door. Prints the record as the API returns it."""
    model = _model_of(resource)
    actor = _actor(as_email)
    res = resource_of(model)
    if not writable(model):
        _fail(refused_door(model))
    if not can_table(actor, model, verb):
        _fail(f"{actor.email} may not {verb} {res.name}.")
    obj = db.session.get(model, obj_id) if obj_id is not None and obj_id <= INT_MAX else None
    if obj_id is not None and (obj is None or not sees(actor, obj)):  # view own: as the API answers
        _fail(f"{res.name} #{obj_id} does not exist.")
    schema = schema_for(model)
    g.api_user = actor  # whom the API's rules (creator, permissions, events) take as the signed-in staff member
    try:
        raw = {**(json.loads(json_data) if json_data else {}), **_key_values(params)}
        with audit.door("cli", actor):
            if verb == "delete":
                with db.session.no_autoflush:  # as the API's DELETE: the commit writes it, its errors answered
                    removing(obj)
                    db.session.delete(obj)
                    if cf.fieldto_of(model):
                        cf.delete_values(model, obj_id)
                _commit(f"Deleting {res.name} #{obj_id}")
                click.echo(f"Deleted {res.name} #{obj_id}.")
                return
            data = schema(partial=obj is not None).load(raw)
            obj = _build(model, data, obj)
            db.session.add(obj)
            _commit(res.name, obj)
    except json.JSONDecodeError as exc:
        _fail(f"--json: {exc}")
    except ValidationError as exc:
        field, message = _first_error(exc.messages)
        _fail(f"{field}: {message}")
    except ApiError as exc:
        _fail(exc.message)
    except FieldError as exc:  # a rule of the record refusing the change (e.g. a delete it does not allow)
        _fail(f"{exc.field}: {exc.message}")
    click.echo(json.dumps(schema().dump(obj), default=str, ensure_ascii=False))


def _fail(message: str):
    db.session.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


JSON_OPTION = click.option("--json", "json_data", default=None,
                           help='Fields as a JSON object (for lines: --json \'{"items": [...]}\').')


@record_cli.command("create")
@click.argument("resource")
@click.argument("params", nargs=-1)
@AS_OPTION
@JSON_OPTION
def record_create(resource, params, as_email, json_data):
    """Create a record: crm record create clients company="Acme SRL" vat=RO123."""
    _write_record(resource, None, params, as_email, json_data, "create")


@record_cli.command("set")
@click.argument("resource")
@click.argument("obj_id", type=int)
@click.argument("params", nargs=-1)
@AS_OPTION
@JSON_OPTION
def record_set(resource, obj_id, params, as_email, json_data):
    """Change fields of a record: crm record set leads 12 name="Ion Pop" company="Pop SRL"."""
    _write_record(resource, obj_id, params, as_email, json_data, "edit")


@record_cli.command("delete")
@click.argument("resource")
@click.argument("obj_id", type=int)
@AS_OPTION
def record_delete(resource, obj_id, as_email):
    """Delete a record: crm record delete leads 12."""
    _write_record(resource, obj_id, (), as_email, None, "delete")


@crm_cli.command("demo-data")
def demo_data():
    """Load believable demo data at every stage of both workflows, and the administrator."""
    email = current_app.config["CRM_ADMIN_EMAIL"]
    password = current_app.config["CRM_ADMIN_PASSWORD"]
    created = _admin_account(email, password, reset=False)
    load()
    shown = password if created else "(your password; `crm create-admin` resets it)"
    click.echo(f"Log in at {public_base()}/login as {email} / {shown}")


@crm_cli.command("cron")
@click.argument("name", required=False)
def cron(name):
    """Run the periodic jobs once (or just NAME); with Redis, `rq cron crm/jobs/cron.py` does this."""
    for job_name, (func, _schedule) in PERIODIC.items():
        if name in (None, job_name):
            click.echo(f"{job_name}: {func() or 'done'}")


from crm.capture.cli import leads_cli  # noqa: E402  (lead capture: `crm leads pipe`, `crm leads poll`)

crm_cli.add_command(leads_cli)


@crm_cli.command("reports-rebuild")
def reports_rebuild():
    """Recompute the sales reports' daily roll-ups from every invoice and payment."""
    rebuild()
    db.session.commit()
    click.echo("Report roll-ups rebuilt.")
