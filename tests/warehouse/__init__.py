"""Tests of crm.warehouse."""
