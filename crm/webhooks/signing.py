"""The body a receiver gets and the signature it checks."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from flask import current_app

from crm.core.resources import json_of


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``timestamp + "." + body`` keyed with the webhook's secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def occurred(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"


def serialise(obj) -> dict:
    """The object exactly as the JSON API returns it (same schema, same JSON encoding)."""
    return json_of(obj)


def body(delivery_id: str, event: str, occurred_at: str, data: dict) -> str:
    """The JSON text posted; stored on the delivery so every retry sends the same bytes."""
    return current_app.json.dumps({"id": delivery_id, "event": event, "occurred_at": occurred_at, "data": data})
