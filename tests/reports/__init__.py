"""Tests of crm.reports."""
