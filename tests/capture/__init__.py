"""Tests of crm.capture."""
