"""`flask --app wsgi crm leads ...`: the email pipe and a manual mailbox poll."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from crm.capture.email_pipe import capture_message, describe, poll_leads_mailbox
from crm.core.extensions import db
from crm.core.registry import ActionError

leads_cli = AppGroup("leads", help="Lead capture: email pipe, mailbox poll.")


@leads_cli.command("pipe")
def pipe():
    """Read one RFC 822 message on stdin and capture it as a lead (or a note on a known lead).

    For the mail server: e.g. in /etc/aliases
    leads: "|/srv/crm/.venv/bin/flask --app wsgi crm leads pipe"
    """
    raw = click.get_binary_stream("stdin").read()
    if not raw.strip():
        click.echo("Error: stdin is empty; pipe one email message (RFC 822) into this command.", err=True)
        sys.exit(65)  # EX_DATAERR: the MTA bounces the message
    try:
        outcome, lead = capture_message(raw)
        db.session.commit()
    except ActionError as exc:
        db.session.rollback()
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(65)
    click.echo(describe(outcome, lead))


@leads_cli.command("poll")
def poll():
    """Poll the leads IMAP mailbox once (the periodic job does this every 5 minutes)."""
    click.echo(poll_leads_mailbox())
