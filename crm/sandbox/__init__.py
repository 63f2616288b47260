"""Stand-ins for the outside services we cannot reach here (ANAF, Innoship, Facebook Graph,
payment gateways). Each speaks its service's documented HTTP API on loopback; the real client
code talks to it through a base-URL setting. They arrive with the issues that need them."""
