"""Addresses that came from outside (a web form, an import, a courier's reply) made safe to link to."""
from __future__ import annotations

from urllib.parse import urlsplit


def web_link(value) -> str | None:
    """The address a typed website opens (``example.ro`` -> ``http://example.ro``), or None when it
    names another scheme: a website comes from public web forms, and ``javascript://%0a...`` in a
    link would run in the staff member's session when clicked."""
    text = (value or "").strip()
    if not text:
        return None
    scheme = urlsplit(text).scheme.lower()
    if scheme in ("http", "https"):
        return text
    if not scheme or ("." in scheme and "://" not in text):  # example.ro, example.ro:8080
        return f"http://{text}"
    return None  # javascript:, data:, vbscript:, file://...
