"""Staff notifications: business events (crm.core.events) become tblnotifications rows (the bell in the
admin navbar, /admin/notifications) and an email through the outbox, as crm.notifications.rules
says. Written in the transaction of the change, so a rolled-back change tells nobody.
"""
from crm.notifications import assignment  # noqa: F401  (declares lead.assigned)
from crm.notifications.notify import portal_client, set_wants_email, unread_count, wants_email  # noqa: F401
from crm.notifications.rules import RULES, Rule, add_rule  # noqa: F401
