"""Sales tables."""
