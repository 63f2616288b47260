"""Warehouse actions (registered by crm.actions); stock.py is the only writer of stock."""
