"""Email: an outbox table, a job that delivers it over SMTP, and editable templates.

    msg = queue_email(to, subject, html, text, attachments=[("INV-1.pdf", pdf, "application/pdf")])

writes the message to tblemail_outbox in the caller's transaction and sends it after commit
(inline, or on Redis with backoff). Without SMTP_URL messages wait in Settings → Email outbox.
"""
from crm.core.mail.outbox import NO_SMTP, build_message, queue_email, requeue, resend_refusal, send_outbox_message  # noqa: F401
from crm.core.mail.smtp import SmtpConfigError, SmtpSettings, parse_smtp_url, smtp_url  # noqa: F401
from crm.core.mail.templates import RenderedEmail, ensure_email_templates, html_to_text, merge, render_email  # noqa: F401
