"""Tests of crm.demo."""
