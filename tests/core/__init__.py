"""Tests of crm.core."""
