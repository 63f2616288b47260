"""Tests of crm.admin_views."""
