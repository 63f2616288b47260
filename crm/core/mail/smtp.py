"""The SMTP transport, configured by one URL.

``SMTP_URL`` (app config, else the environment, else the ``smtp_url`` option in Settings → Email)::

    smtp://user:pass@host:587?starttls=1   plain SMTP, upgraded with STARTTLS
    smtp://host:1025                       plain SMTP (a local relay, MailHog, the tests)
    smtps://user:pass@host:465             SMTP over TLS

User and password are URL-encoded (``@`` is ``%40``). Unset: nothing is sent, messages wait in
the outbox.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app

from crm.core import options

TIMEOUT = 30  # seconds


class SmtpConfigError(ValueError):
    pass


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str = ""
    password: str = ""
    ssl: bool = False
    starttls: bool = False


def smtp_url() -> str:
    """The configured SMTP URL, or '' when none is."""
    return (current_app.config.get("SMTP_URL") or options.get("smtp_url") or "").strip()


def parse_smtp_url(url: str) -> SmtpSettings:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps", "smtp+starttls"):
        raise SmtpConfigError(f"SMTP_URL must start with smtp:// or smtps://, not {scheme or url!r}.")
    if not parts.hostname:
        raise SmtpConfigError("SMTP_URL names no host (smtp://user:pass@host:port).")
    query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    use_ssl = scheme == "smtps"
    starttls = scheme == "smtp+starttls" or query.get("starttls") in ("1", "true", "yes")
    try:
        port = parts.port or (465 if use_ssl else 587 if starttls else 25)
    except ValueError:
        raise SmtpConfigError("SMTP_URL has a port that is not a number.") from None
    return SmtpSettings(host=parts.hostname, port=port, username=unquote(parts.username or ""),
                        password=unquote(parts.password or ""), ssl=use_ssl, starttls=starttls)


def deliver(message: EmailMessage, settings: SmtpSettings) -> None:
    """Hand ``message`` to the SMTP server; raises (OSError, smtplib.SMTPException) on failure."""
    if settings.ssl:
        conn = smtplib.SMTP_SSL(settings.host, settings.port, timeout=TIMEOUT,
                                context=ssl.create_default_context())
    else:
        conn = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT)
    with conn:
        if settings.starttls:
            conn.starttls(context=ssl.create_default_context())
        if settings.username:
            conn.login(settings.username, settings.password)
        conn.send_message(message)
