"""`flask --app wsgi crm ...`: actions, demo data, admin account, periodic jobs."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from .extensions import db

crm_cli = AppGroup("crm", help="CRMConnect commands.")


def _admin_account(email: str, password: str, reset: bool = True):
    """Create the administrator (and the documented roles); ``reset`` also resets the password."""
    from .auth import ensure_roles
    from .models import Staff

    ensure_roles()
    __import__("crm.mail", fromlist=["ensure_email_templates"]).ensure_email_templates()
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
    from .auth import ensure_roles

    ensure_roles()
    db.session.commit()
    click.echo("Roles are up to date.")


@crm_cli.command("action")
@click.argument("resource")
@click.argument("obj_id", type=int)
@click.argument("name")
@click.argument("params", nargs=-1)
@click.option("--as", "as_email", default=None, help="Staff email to act as (default: the administrator).")
def run_action(resource, obj_id, name, params, as_email):
    """Run an action: crm action leads 12 mark_lost reason="No budget"."""
    from .actions import ActionError, run
    from .models import Staff
    from .resources import models_by_resource

    model = models_by_resource().get(resource)
    if model is None:
        raise click.UsageError(f"Unknown resource {resource!r}. Known: {', '.join(sorted(models_by_resource()))}")
    data = {}
    for p in params:
        if "=" not in p:
            raise click.UsageError(f"Parameter {p!r} must be written key=value.")
        k, v = p.split("=", 1)
        data[k] = v
    email = (as_email or current_app.config["CRM_ADMIN_EMAIL"]).lower()
    actor = db.session.query(Staff).filter_by(email=email).one_or_none()
    if actor is None:
        raise click.UsageError(f"No staff member with email {email}.")
    try:
        result = run(model, obj_id, name, actor, data)
    except ActionError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)
    click.echo(result if isinstance(result, str) else "done")


@crm_cli.command("demo-data")
def demo_data():
    """Load believable demo data at every stage of both workflows, and the administrator."""
    from .demo import load, public_base

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
    from .jobs.periodic import PERIODIC

    for job_name, (func, _schedule) in PERIODIC.items():
        if name in (None, job_name):
            click.echo(f"{job_name}: {func() or 'done'}")


from .capture.cli import leads_cli  # noqa: E402  (lead capture: `crm leads pipe`, `crm leads poll`)

crm_cli.add_command(leads_cli)


@crm_cli.command("reports-rebuild")
def reports_rebuild():
    """Recompute the sales reports' daily roll-ups from every invoice and payment."""
    from .reports.rollup import rebuild

    rebuild()
    db.session.commit()
    click.echo("Report roll-ups rebuilt.")
