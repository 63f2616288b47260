"""Clients for outside services, each with its base URL in the options (so tests and the demo can
point them at the stand-ins in crm/sandbox/)."""
