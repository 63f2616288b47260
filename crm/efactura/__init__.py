"""Romanian e-Factura: CIUS-RO UBL from invoices (document, ubl), the pre-check (checks), the ANAF
flow on invoices (service), OAuth (oauth) and received invoices (received)."""
