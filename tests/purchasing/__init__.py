"""Tests of crm.purchasing."""
