"""Facebook: the webhook signature and the Graph API call that reads one lead.

``fetch_lead`` asks ``GET {facebook_graph_url}/{facebook_graph_version}/{leadgen_id}`` with the page
access token and returns the lead (``field_data: [{name, values}]``, ``created_time``, ``form_id``,
``ad_id``). Every failure is a :class:`GraphError` that says whether trying again later can help
(``retry``: timeouts, 5xx, rate limits, an answer that is not the lead) or not (a refused token,
a missing permission: a person must act, and the message says what to do).
"""
from __future__ import annotations

import hashlib
import hmac

import requests
from flask import current_app, has_app_context

from crm.core import options

LEAD_FIELDS = "id,created_time,ad_id,form_id,page_id,field_data"
# Graph error codes that go away by themselves (rate limits, temporary errors).
TRANSIENT_CODES = {1, 2, 4, 17, 32, 341, 368, 613, 80001, 80005}


class GraphError(Exception):
    def __init__(self, message: str, *, retry: bool, status: int | None = None, code: int | None = None):
        super().__init__(message)
        self.message, self.retry, self.status, self.code = message, retry, status, code


def signature(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value Facebook sends: sha256= and the HMAC-SHA256 hex of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(signature(secret, body).encode(), header.strip().encode())


def graph_base() -> str:
    return f"{options.get('facebook_graph_url').rstrip('/')}/{options.get('facebook_graph_version').strip('/')}"


def _timeout() -> float:
    return float(current_app.config.get("FACEBOOK_GRAPH_TIMEOUT", 15)) if has_app_context() else 15.0


def _hint(code: int | None, subcode: int | None, leadgen_id: str) -> str:
    if code == 190:
        return ("The page access token is invalid or has expired: generate a new page access token (with the "
                "leads_retrieval permission) and paste it into facebook_page_access_token, then press "
                "“Retry now”.")
    if code == 10 or (code is not None and 200 <= code < 300):
        return ("The token may not read leads: give the app the leads_retrieval and pages_manage_metadata "
                "permissions, make its user a page admin with leads access, save the new token in "
                "facebook_page_access_token, then press “Retry now”.")
    if code == 100:
        return (f"Lead {leadgen_id} cannot be read with this token: check that facebook_page_access_token "
                "belongs to the page that owns the form and that facebook_graph_version exists.")
    return "Check facebook_graph_url, facebook_graph_version and facebook_page_access_token."


def fetch_lead(leadgen_id: str, *, token: str | None = None) -> dict:
    """The lead as Graph returns it; raises GraphError (never leaks the token in its message)."""
    token = token if token is not None else options.get("facebook_page_access_token")
    if not token:
        raise GraphError("facebook_page_access_token is empty: paste the page access token on the Facebook "
                         "Lead Ads settings screen, then press “Retry now”.", retry=False)
    url = f"{graph_base()}/{leadgen_id}"
    try:
        resp = requests.get(url, params={"access_token": token, "fields": LEAD_FIELDS}, timeout=_timeout())
    except requests.Timeout:
        raise GraphError(f"The Graph API did not answer within {_timeout():g} s ({url}).", retry=True) from None
    except requests.RequestException as exc:
        raise GraphError(f"Cannot reach the Graph API at {url}: {type(exc).__name__}.", retry=True) from None
    try:
        body = resp.json()
    except ValueError:
        body = None
    if resp.status_code >= 500 or resp.status_code == 429:
        raise GraphError(f"The Graph API answered HTTP {resp.status_code} for lead {leadgen_id}; it will be "
                         "asked again.", retry=True, status=resp.status_code)
    if resp.status_code >= 400:
        err = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), dict) else {}
        code, subcode = err.get("code"), err.get("error_subcode")
        text = str(err.get("message") or resp.reason or "refused")[:300]
        retry = code in TRANSIENT_CODES or bool(err.get("is_transient"))
        message = f"The Graph API refused lead {leadgen_id} (HTTP {resp.status_code}" + \
            (f", code {code}" if code is not None else "") + f"): {text}"
        raise GraphError(message if retry else f"{message}. What to do: {_hint(code, subcode, leadgen_id)}",
                         retry=retry, status=resp.status_code, code=code)
    if not isinstance(body, dict) or not isinstance(body.get("field_data"), list) or \
            not all(isinstance(f, dict) and f.get("name") for f in body["field_data"]):
        raise GraphError(f"The Graph API answered HTTP {resp.status_code} for lead {leadgen_id} without the "
                         "lead's field_data (not the expected JSON); it will be asked again.", retry=True,
                         status=resp.status_code)
    return body
