"""Tests of crm.online_payments."""
