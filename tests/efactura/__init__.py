"""Tests of crm.efactura."""
