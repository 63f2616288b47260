"""Clients of outside services (ANAF, couriers, payment gateways); base URLs come from options."""
