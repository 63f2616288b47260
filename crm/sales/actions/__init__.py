"""Sales actions (registered by crm.actions)."""
