"""Tests of crm.sales."""
