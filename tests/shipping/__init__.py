"""Tests of crm.shipping."""
