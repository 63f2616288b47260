"""End-to-end tests across the areas."""
