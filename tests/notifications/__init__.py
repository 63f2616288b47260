"""Tests of crm.notifications."""
