"""Tests of crm.api."""
