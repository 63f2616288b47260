"""A stand-in for Facebook's Graph API and Lead Ads webhooks, served on loopback.

It speaks the part of the Graph API the CRM uses, with Graph's shapes and error format:

- ``GET /{version}/{leadgen_id}?access_token=…`` → the lead (``field_data``, ``created_time``,
  ``form_id``, ``ad_id``); a wrong token → 400 OAuthException code 190; an unknown id → code 100;
- ``POST /{version}/app/subscriptions`` (``object=page``, ``callback_url``, ``verify_token``,
  ``fields=leadgen``): like Facebook it first calls the callback with ``hub.mode=subscribe`` and
  keeps the subscription only if the challenge comes back;
- ``POST /{version}/{form_id}/test_leads`` (optional JSON ``field_data``): like the Lead Ads
  testing tool, creates a lead and delivers the ``leadgen`` webhook, signed with the app secret
  (``X-Hub-Signature-256``), to the subscribed callback; answers the lead id and how the callback
  answered.

Tests drive it in-process (``add_lead``, ``deliver``, ``fail_next``); the demo serves one inside the
web process at /sandbox/facebook (crm.sandbox.mount).
"""
from __future__ import annotations

import itertools
import json
import random
import re
import secrets
import threading
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from crm.capture.facebook_client import signature

PAGE_ID, FORM_ID, AD_ID = "104857600000001", "209715200000001", "314572800000001"
VERSION_RE = re.compile(r"^v\d+\.\d+$")

SAMPLE_PEOPLE = (
    ("Ana Georgescu", "Georgescu Consulting SRL", "Director general", "Cluj-Napoca"),
    ("Radu Enache", "Enache Logistic SRL", "Administrator", "Brașov"),
    ("Irina Stoica", "Stoica Print SRL", "Office manager", "Iași"),
    ("Bogdan Marinescu", "Marinescu Horeca SRL", "Achiziții", "Constanța"),
    ("Laura Petrescu", "Petrescu Dental SRL", "Medic coordonator", "Timișoara"),
)


def sample_field_data() -> list[dict]:
    """A plausible lead like the testing tool's: standard questions plus one custom question."""
    name, company, title, city = random.choice(SAMPLE_PEOPLE)
    user = name.lower().replace(" ", ".").replace("ș", "s").replace("ț", "t").replace("ă", "a")
    return [
        {"name": "full_name", "values": [name]},
        {"name": "email", "values": [f"{user}.{secrets.token_hex(2)}@example.ro"]},
        {"name": "phone_number", "values": [f"+4072{random.randint(1000000, 9999999)}"]},
        {"name": "company_name", "values": [company]},
        {"name": "job_title", "values": [title]},
        {"name": "city", "values": [city]},
        {"name": "country", "values": ["RO"]},
        {"name": "ce_produse_va_intereseaza?", "values": [random.choice(["Laptopuri", "Consumabile", "Servicii IT"])]},
    ]


def _graph_error(status: int, message: str, code: int, type_: str = "GraphMethodException") -> Response:
    body = {"error": {"message": message, "type": type_, "code": code, "fbtrace_id": secrets.token_urlsafe(8)}}
    return Response(json.dumps(body), status, content_type="application/json")


def _json(body, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")


class FacebookSandbox:
    def __init__(self, access_token: str, app_secret: str):
        self.access_token, self.app_secret = access_token, app_secret
        self.leads: dict[str, dict] = {}
        self.subscription: dict | None = None
        self.failures: list[str] = []  # next lead reads: "500", "timeout", "garbage" or "slow"
        self.timeout_seconds = 3.0
        self.reads = 0  # lead reads answered (for tests)
        self._ids = itertools.count(int(time.time() * 1000) % 10 ** 12 * 1000)
        self._lock = threading.Lock()
        self._server = self._thread = None

    # --- in-process controls (tests) ---------------------------------------------------------
    def add_lead(self, field_data: list[dict] | None = None, *, form_id: str = FORM_ID, ad_id: str = AD_ID,
                 page_id: str = PAGE_ID) -> str:
        with self._lock:
            lead_id = str(next(self._ids))
        now = datetime.now(timezone.utc)
        self.leads[lead_id] = {"id": lead_id, "created_time": now.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                               "ad_id": ad_id, "form_id": form_id, "page_id": page_id,
                               "field_data": field_data if field_data is not None else sample_field_data(),
                               "_created": int(now.timestamp())}
        return lead_id

    def fail_next(self, *modes: str) -> None:
        self.failures.extend(modes)

    def webhook_body(self, *lead_ids: str, page_id: str = PAGE_ID) -> bytes:
        """The leadgen notification Facebook POSTs, one change per lead."""
        changes = []
        for lid in lead_ids:
            lead = self.leads.get(lid, {})
            changes.append({"field": "leadgen", "value": {
                "leadgen_id": lid, "page_id": lead.get("page_id", page_id), "form_id": lead.get("form_id", FORM_ID),
                "ad_id": lead.get("ad_id", AD_ID), "adgroup_id": lead.get("ad_id", AD_ID),
                "created_time": lead.get("_created", int(time.time()))}})
        return json.dumps({"object": "page", "entry": [{"id": page_id, "time": int(time.time()),
                                                        "changes": changes}]}).encode()

    def sign(self, body: bytes) -> str:
        return signature(self.app_secret, body)

    def deliver(self, *lead_ids: str, callback_url: str | None = None, timeout: float = 30) -> requests.Response:
        url = callback_url or (self.subscription or {}).get("callback_url")
        if not url:
            raise RuntimeError("no webhook subscription: POST /{version}/app/subscriptions first")
        body = self.webhook_body(*lead_ids)
        return requests.post(url, data=body, timeout=timeout, headers={
            "Content-Type": "application/json", "X-Hub-Signature-256": self.sign(body)})

    # --- HTTP -------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        return self.dispatch(Request(environ))(environ, start_response)

    def dispatch(self, req: Request) -> Response:
        parts = [p for p in req.path.split("/") if p]
        if len(parts) < 2 or not VERSION_RE.match(parts[0]):
            return _graph_error(400, "Unknown path components: " + req.path, 2500, "OAuthException")
        token = req.values.get("access_token") or ""
        if not secrets.compare_digest(token.encode(), self.access_token.encode()):
            return _graph_error(400, "Invalid OAuth access token - Cannot parse access token", 190, "OAuthException")
        if req.method == "GET" and len(parts) == 2:
            return self._read_lead(parts[1])
        if req.method == "POST" and parts[1:] == ["app", "subscriptions"]:
            return self._subscribe(req)
        if req.method == "POST" and len(parts) == 3 and parts[2] == "test_leads":
            return self._test_lead(req, parts[1])
        return _graph_error(400, f"Unsupported {req.method} request.", 100)

    def _read_lead(self, lead_id: str) -> Response:
        mode = self.failures.pop(0) if self.failures else None
        if mode == "timeout":
            time.sleep(self.timeout_seconds)
        elif mode == "slow":  # answers, but late enough for two readers to overlap
            time.sleep(0.2)
        elif mode == "500":
            return _graph_error(500, "An unexpected error has occurred. Please retry your request later.", 2,
                                "OAuthException")
        elif mode == "garbage":
            return Response("<html>Service Unavailable</html>", 200, content_type="text/html")
        lead = self.leads.get(lead_id)
        if lead is None:
            return _graph_error(400, f"Unsupported get request. Object with ID '{lead_id}' does not exist, cannot "
                                     "be loaded due to missing permissions, or does not support this operation.", 100)
        self.reads += 1
        return _json({k: v for k, v in lead.items() if not k.startswith("_")})

    def _subscribe(self, req: Request) -> Response:
        callback, verify_token = req.values.get("callback_url"), req.values.get("verify_token", "")
        if req.values.get("object", "page") != "page" or "leadgen" not in req.values.get("fields", "leadgen"):
            return _graph_error(400, "(#100) object must be page and fields must include leadgen", 100)
        if not callback or urlsplit(callback).scheme not in ("http", "https"):
            return _graph_error(400, "(#100) callback_url must be an http(s) URL", 100)
        challenge = secrets.token_hex(8)
        try:
            resp = requests.get(callback, timeout=30, params={"hub.mode": "subscribe", "hub.challenge": challenge,
                                                               "hub.verify_token": verify_token})
        except requests.RequestException as exc:
            return _graph_error(400, f"(#2200) Callback verification failed: cannot reach {callback} "
                                     f"({type(exc).__name__})", 2200)
        if resp.status_code != 200 or resp.text != challenge:
            return _graph_error(400, "(#2200) Callback verification failed with the following errors: HTTP "
                                     f"{resp.status_code}: {resp.text[:200]}", 2200)
        self.subscription = {"object": "page", "callback_url": callback, "fields": ["leadgen"]}
        return _json({"success": True})

    def _test_lead(self, req: Request, form_id: str) -> Response:
        if self.subscription is None:
            return _graph_error(400, "(#100) The app has no leadgen webhook subscription", 100)
        body = req.get_json(silent=True) or {}
        field_data = body.get("field_data") if isinstance(body.get("field_data"), list) else None
        lead_id = self.add_lead(field_data, form_id=form_id)
        try:
            resp = self.deliver(lead_id)
            delivery = {"status": resp.status_code, "body": resp.text[:500]}
        except requests.RequestException as exc:
            delivery = {"status": None, "body": f"cannot reach {self.subscription['callback_url']}: "
                                                f"{type(exc).__name__}"}
        return _json({"id": lead_id, "delivery": delivery})

    # --- serving ---------------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server = make_server(host, port, self, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="facebook-sandbox")
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


LOOPBACK = ("127.0.0.1", "localhost")


def is_local(base_url: str) -> bool:
    parts = urlsplit(base_url or "")
    return parts.scheme == "http" and parts.hostname in LOOPBACK and parts.port is not None


class SandboxError(Exception):
    pass


def send_test_lead(base_url: str, version: str, access_token: str, callback_url: str, verify_token: str) -> dict:
    """The settings screen's "Send a test lead": subscribe our webhook, then have a lead created.

    Returns the sandbox's answer ({"id", "delivery": {"status", "body"}}); raises SandboxError."""
    base = f"{base_url.rstrip('/')}/{version.strip('/')}"
    try:
        resp = requests.post(f"{base}/app/subscriptions", timeout=60, data={
            "object": "page", "callback_url": callback_url, "fields": "leadgen", "verify_token": verify_token,
            "access_token": access_token})
        if resp.status_code == 200:
            resp = requests.post(f"{base}/{FORM_ID}/test_leads", params={"access_token": access_token},
                                 json={}, timeout=120)
    except requests.RequestException as exc:
        raise SandboxError(f"The sandbox at {base_url} cannot be reached ({type(exc).__name__}).") from None
    try:
        body = resp.json()
    except ValueError:
        raise SandboxError(f"The sandbox answered HTTP {resp.status_code} without JSON.") from None
    if resp.status_code != 200:
        raise SandboxError((body.get("error") or {}).get("message") or f"HTTP {resp.status_code}")
    return body
