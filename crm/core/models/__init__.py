"""Core tables: staff, roles, options, custom fields, audit log, job and email outboxes; the model base."""
