"""Clients for the services outside (Innoship, ...): plain HTTP with timeouts, base URL a setting.

The same code talks to the real service and to its stand-in under ``crm/sandbox/``."""
