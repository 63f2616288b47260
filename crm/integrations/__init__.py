"""Clients of outside services. Each takes its base URL from an option, so tests and the demo
point it at the stand-in in crm/sandbox/."""
