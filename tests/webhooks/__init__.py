"""Tests of crm.webhooks."""
