"""Warehouse screens that are not a generated grid."""
