"""Purchasing actions (registered by crm.actions)."""
