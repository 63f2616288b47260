"""Warehouse: the stock ledger, reservations, receipts, deliveries, packing, rotation, physical
inventory, count sheets, traceability."""
