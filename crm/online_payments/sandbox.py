"""A stand-in for Stripe Checkout on loopback, speaking what the ``stripe`` library calls.

API (Bearer secret key, form-encoded bodies, Stripe's JSON shapes and error envelope):
  POST /v1/checkout/sessions        create a Checkout Session (mode payment, line_items with price_data)
  GET  /v1/checkout/sessions/{id}   retrieve it
Hosted pages (what the client's browser sees):
  GET  /pay/{id}                    the "checkout page": amount and a Pay button
  POST /pay/{id}                    pay: the session completes, a signed ``checkout.session.completed``
                                    event is POSTed to the webhook URL, then 303 to the success URL

Tests serve it with :func:`serve`; the demo mounts it at /sandbox/stripe of the app itself
(:func:`for_app`, through ``crm.sandbox.mount`` with ``CRM_SANDBOX=1``), reading its keys from the app's options.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from html import escape
from typing import Callable
from urllib.parse import quote

import requests
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from crm.core import options

API_VERSION = "2025-01-27.acacia"
KEY = re.compile(r"^([a-z_]+)((?:\[[^\]]*\])*)$")


def _setting(value):
    return value() if callable(value) else value


def parse_form(pairs) -> dict:
    """Stripe's form encoding back to nested data: a[b][0][c]=1 → {"a": {"b": [{"c": "1"}]}}."""
    root: dict = {}
    for key, value in pairs:
        m = KEY.match(key)
        if not m:
            continue
        path = [m.group(1)] + re.findall(r"\[([^\]]*)\]", m.group(2))
        node = root
        for part, nxt in zip(path, path[1:] + [None]):
            if nxt is None:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node):
    """Dicts keyed 0, 1, 2… are arrays."""
    if isinstance(node, dict):
        node = {k: _lists(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
    return node


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe sends: t=<unix time>,v1=<HMAC-SHA256 of "t.payload">."""
    t = int(timestamp if timestamp is not None else time.time())
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def _error(status: int, message: str, param: str | None = None, code: str | None = None,
           kind: str = "invalid_request_error") -> Response:
    body = {"error": {"type": kind, "message": message, **({"param": param} if param else {}),
                      **({"code": code} if code else {})}}
    return Response(json.dumps(body), status=status, mimetype="application/json")


class StripeSandbox:
    """The WSGI app. ``api_key``, ``webhook_secret`` and ``webhook_url`` may be callables (read per request)."""

    def __init__(self, api_key: str | Callable, webhook_secret: str | Callable, webhook_url: str | Callable | None):
        self.api_key, self.webhook_secret, self.webhook_url = api_key, webhook_secret, webhook_url
        self.sessions: dict[str, dict] = {}
        self.events: list[dict] = []  # every event sent: {"event", "payload", "status"}
        self.lock = threading.Lock()
        self.urls = Map([
            Rule("/v1/checkout/sessions", methods=["POST"], endpoint="create"),
            Rule("/v1/checkout/sessions/<sid>", methods=["GET"], endpoint="retrieve"),
            Rule("/pay/<sid>", methods=["GET"], endpoint="page"),
            Rule("/pay/<sid>", methods=["POST"], endpoint="pay"),
        ])

    # --- WSGI -------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            endpoint, args = self.urls.bind_to_environ(environ).match()
            if endpoint in ("create", "retrieve"):
                refused = self._check_key(request)
                response = refused or getattr(self, endpoint)(request, **args)
            else:
                response = getattr(self, endpoint)(request, **args)
        except NotFound:
            response = _error(404, f"Unrecognized request URL ({request.method}: {request.path}).")
        except HTTPException as exc:
            response = exc.get_response()
        return response(environ, start_response)

    def _check_key(self, request) -> Response | None:
        header = request.headers.get("Authorization", "")
        given = header[7:] if header.startswith("Bearer ") else ""
        if not given:
            return _error(401, "You did not provide an API key.")
        if not hmac.compare_digest(given, _setting(self.api_key) or ""):
            return _error(401, f"Invalid API Key provided: {given[:8]}****")
        return None

    @staticmethod
    def _json(obj, status=200) -> Response:
        return Response(json.dumps(obj), status=status, mimetype="application/json",
                        headers={"Request-Id": f"req_{secrets.token_hex(7)}", "Stripe-Version": API_VERSION})

    # --- API --------------------------------------------------------------------------------
    def create(self, request):
        data = parse_form(request.form.items(multi=True))
        if data.get("mode") != "payment":
            return _error(400, "This sandbox supports mode=payment only.", param="mode")
        if not data.get("success_url"):
            return _error(400, "Missing required param: success_url.", param="success_url")
        items = data.get("line_items") or []
        if not items:
            return _error(400, "line_items: at least one item is required.", param="line_items")
        currency, total = None, 0
        for i, item in enumerate(items):
            price = item.get("price_data") or {}
            try:
                quantity, unit = int(item.get("quantity", 1)), int(price["unit_amount"])
            except (KeyError, ValueError):
                return _error(400, "Invalid integer: unit_amount.", param=f"line_items[{i}][price_data][unit_amount]")
            if unit < 0 or quantity < 1:
                return _error(400, "Invalid amount.", param=f"line_items[{i}][price_data][unit_amount]")
            if currency and price.get("currency") != currency:
                return _error(400, "All line items must share one currency.", param="line_items")
            currency = price.get("currency")
            total += unit * quantity
        if not currency:
            return _error(400, "Missing required param: currency.", param="line_items[0][price_data][currency]")
        sid = f"cs_test_{secrets.token_hex(16)}"
        now = int(time.time())
        session = {
            "id": sid, "object": "checkout.session", "mode": "payment", "status": "open",
            "payment_status": "unpaid", "amount_subtotal": total, "amount_total": total, "currency": currency,
            "client_reference_id": data.get("client_reference_id"), "customer_email": data.get("customer_email"),
            "metadata": data.get("metadata") or {}, "payment_intent": None,
            "success_url": data["success_url"], "cancel_url": data.get("cancel_url"),
            "url": f"{request.host_url.rstrip('/')}{request.script_root}/pay/{sid}",
            "created": now, "expires_at": now + 24 * 3600, "livemode": False,
        }
        with self.lock:
            self.sessions[sid] = session
        return self._json(session)

    def retrieve(self, request, sid):
        session = self.sessions.get(sid)
        if session is None:
            return _error(404, f"No such checkout.session: '{sid}'", param="session", code="resource_missing")
        return self._json(session)

    # --- the hosted page ----------------------------------------------------------------------
    def page(self, request, sid):
        s = self.sessions.get(sid)
        if s is None:
            raise NotFound()
        amount = f"{s['amount_total'] / 100:,.2f} {s['currency'].upper()}"
        done = s["status"] == "complete"
        html = f"""<!doctype html><html><head><meta charset="utf-8"><title>Checkout (sandbox)</title>
<style>body{{font-family:sans-serif;max-width:420px;margin:60px auto}}button{{padding:10px 24px;font-size:16px}}</style>
</head><body><h1>Stripe sandbox checkout</h1>
<p>Pay <strong data-testid="amount">{escape(amount)}</strong> to {escape(s.get('client_reference_id') or '')}.</p>
{'<p>This session is already paid.</p>' if done else f'''<form method="post" action="{escape(request.script_root)}/pay/{sid}">
<button type="submit" data-testid="pay">Pay {escape(amount)}</button></form>'''}
{f'<p><a href="{escape(s["cancel_url"])}">Cancel and go back</a></p>' if s.get('cancel_url') and not done else ''}
</body></html>"""
        return Response(html, mimetype="text/html")

    def pay(self, request, sid):
        with self.lock:
            s = self.sessions.get(sid)
            if s is None:
                raise NotFound()
            first = s["status"] != "complete"
            if first:
                s.update(status="complete", payment_status="paid", payment_intent=f"pi_{secrets.token_hex(12)}")
        if first:
            self.send_event("checkout.session.completed", dict(s))
        target = s["success_url"].replace("{CHECKOUT_SESSION_ID}", quote(sid))
        return Response(status=303, headers={"Location": target})

    # --- events -------------------------------------------------------------------------------
    def send_event(self, kind: str, obj: dict) -> dict:
        event = {"id": f"evt_{secrets.token_hex(12)}", "object": "event", "api_version": API_VERSION,
                 "created": int(time.time()), "type": kind, "livemode": False, "pending_webhooks": 1,
                 "request": {"id": None, "idempotency_key": None}, "data": {"object": obj}}
        record = {"event": event, "payload": json.dumps(event).encode()}
        self.events.append(record)
        self.deliver(record)
        return record

    def deliver(self, record: dict) -> int:
        """POST the event to the webhook, signed now (Stripe signs each delivery afresh)."""
        url = _setting(self.webhook_url)
        if not url:
            record["status"] = None
            return 0
        try:
            resp = requests.post(url, data=record["payload"], timeout=30, headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": sign(record["payload"], _setting(self.webhook_secret) or ""),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"})
            record["status"] = resp.status_code
        except requests.RequestException as exc:
            record["status"], record["error"] = None, str(exc)
        return record["status"] or 0

    def redeliver(self, event_id: str) -> int:
        """Send an event again, as Stripe does when it did not get a 2xx in time."""
        record = next(r for r in self.events if r["event"]["id"] == event_id)
        return self.deliver(record)


def serve(sandbox: StripeSandbox):
    """Serve ``sandbox`` on 127.0.0.1, a free port, in a daemon thread. Returns (server, base URL)."""
    server = make_server("127.0.0.1", 0, sandbox, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


PATH = "/sandbox/stripe"


def for_app(app) -> "StripeSandbox":
    """The stand-in the demo serves at /sandbox/stripe of the app itself (crm.sandbox.mount), with
    the app's Stripe options as its keys and the app's /webhooks/stripe as its webhook."""

    def option(name):
        def read():
            with app.app_context():
                return options.get(name)
        return read

    def webhook_url():  # the app that mounts it: stripe_api_base without /sandbox/stripe
        base = (option("stripe_api_base")() or "").removesuffix(PATH)
        return f"{base}/webhooks/stripe" if base else None

    return StripeSandbox(option("stripe_secret_key"), option("stripe_webhook_secret"), webhook_url)
