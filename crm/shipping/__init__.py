"""Courier (Innoship): client, stand-in, the AWB actions and the packing list's courier part."""
