"""Sales: leads, clients, proposals, sales orders, invoices, payments, advances, contracts,
campaigns, goals and the client portal."""
