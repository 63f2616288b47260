"""A stand-in for Innoship's API (see crm/shipping/innoship.py), on loopback.

It checks ``X-Api-Key`` and the order body as Innoship documents it, books AWBs, serves a PDF
label, answers tracking with a history the test or the demo moves forward (``advance``), and
cancels. ``fail_next`` makes the next calls fail (an HTTP status or a timeout) to test faults.
Mounted at ``/sandbox/innoship`` in the demo; served on its own port in the tests.
"""
from __future__ import annotations

import itertools
import threading
import time
from datetime import datetime, timedelta, timezone

from flask import Flask, Response, jsonify, request

COURIERS = {1: "Cargus", 2: "DPD", 3: "FanCourier", 4: "GLS", 6: "Sameday", 10: "DHL", 11: "Posta Romana"}
SERVICES = {1, 3, 4, 5, 6}
# The tracking states the stand-in walks through: (clientStatusId, description)
STEPS = [(1, "AWB created"), (2, "Picked up by courier"), (20, "In transit"), (3, "Delivered")]


class InnoshipSandbox:
    def __init__(self, api_key: str = "sandbox-key"):
        self.api_key = api_key
        self.orders: dict[str, dict] = {}  # awb -> order
        self.failures: list = []  # statuses (int) or "timeout", consumed one per call
        self.calls: list[tuple[str, str]] = []
        self.timeout_delay = 6.0  # seconds a "timeout" failure keeps the caller waiting
        self._ids = itertools.count(1001)
        self._lock = threading.Lock()
        self.app = self._build()

    # --- what tests and the demo use ---------------------------------------------------------
    def fail_next(self, *failures) -> None:
        self.failures.extend(failures)

    def advance(self, awb: str, steps: int = 1) -> None:
        order = self.orders[awb]
        order["step"] = min(order["step"] + steps, len(STEPS) - 1)

    def booked(self) -> list[dict]:
        return [o for o in self.orders.values() if not o["cancelled"]]

    # --- the API -------------------------------------------------------------------------------
    def _build(self) -> Flask:
        app = Flask(__name__)
        sandbox = self

        @app.before_request
        def checks():
            sandbox.calls.append((request.method, request.path))
            if sandbox.failures:
                failure = sandbox.failures.pop(0)
                if failure == "timeout":
                    time.sleep(sandbox.timeout_delay)
                    return Response(status=504)
                if failure == "garbage":
                    return Response("<html>Bad gateway</html>", status=200, content_type="text/html")
                return jsonify(message=f"Sandbox failure {failure}"), failure
            if request.headers.get("X-Api-Key") != sandbox.api_key:
                return jsonify(message="Invalid API key"), 401
            return None

        @app.post("/api/Order")
        def create_order():
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                return jsonify(errors={"body": ["A JSON object is required."]}), 400
            errors = _validate(body)
            if errors:
                return jsonify(errors=errors), 400
            with sandbox._lock:
                ext = body["externalOrderId"]
                if any(o["externalOrderId"] == ext and not o["cancelled"] for o in sandbox.orders.values()):
                    return jsonify(errors={"externalOrderId": [f"An order with externalOrderId {ext} exists."]}), 400
                courier = body.get("courierId") or 1
                awb = f"{courier}{next(sandbox._ids):08d}"
                weight = float(body["content"]["totalWeight"])
                amount = round(12.0 + 1.5 * weight, 2)
                sandbox.orders[awb] = {"awb": awb, "courier": courier, "externalOrderId": ext, "body": body,
                                       "step": 0, "cancelled": False, "created": datetime.now(timezone.utc)}
            return jsonify(clientOrderId=int(awb[-4:]), courierShipmentId=awb, courier=courier,
                           price={"amount": amount, "vat": round(amount * 0.19, 2),
                                  "totalAmount": round(amount * 1.19, 2), "currency": "RON"},
                           calculatedDeliveryDate=(datetime.now(timezone.utc) + timedelta(days=2)).isoformat(),
                           trackPageUrl=f"https://tracking.sandbox.invalid/{awb}"), 201

        @app.get("/api/Label/by-courier/<int:courier>/awb/<awb>")
        def label(courier, awb):
            order = sandbox.orders.get(awb)
            if order is None or order["courier"] != courier:
                return jsonify(message=f"AWB {awb} not found for courier {courier}"), 404
            return Response(_label_pdf(order), content_type="application/pdf")

        @app.post("/api/Track/by-awb/with-return")
        def track():
            body = request.get_json(silent=True) or {}
            out = []
            for awb in body.get("awbList") or []:
                order = sandbox.orders.get(awb)
                if order is None or order["courier"] != body.get("courier"):
                    continue
                history = [{"eventDate": (order["created"] + timedelta(hours=6 * i)).isoformat(),
                            "clientStatusId": sid, "clientStatusDescription": text}
                           for i, (sid, text) in enumerate(STEPS[:order["step"] + 1])]
                if order["cancelled"]:
                    history.append({"eventDate": datetime.now(timezone.utc).isoformat(), "clientStatusId": 99,
                                    "clientStatusDescription": "Cancelled"})
                out.append({"awb": awb, "courier": order["courier"], "externalOrderId": order["externalOrderId"],
                            "history": history})
            return jsonify(out)

        @app.delete("/api/Order/<int:courier>/awb/<awb>")
        def cancel(courier, awb):
            order = sandbox.orders.get(awb)
            if order is None or order["courier"] != courier:
                return jsonify(message=f"AWB {awb} not found for courier {courier}"), 404
            if order["step"] >= 1:
                return jsonify(message=f"AWB {awb} was already picked up by the courier; it cannot be cancelled."), 400
            order["cancelled"] = True
            return Response(status=200)

        @app.get("/api/Courier/All")
        def couriers():
            return jsonify([{"courierId": cid, "name": name} for cid, name in COURIERS.items()])

        return app


def _validate(body: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def need(path: str, value) -> None:
        if value in (None, "", []):
            errors.setdefault(path, []).append(f"The {path} field is required.")

    if body.get("serviceId") not in SERVICES:
        errors["serviceId"] = [f"Unknown serviceId {body.get('serviceId')!r}."]
    if body.get("courierId") not in (None, *COURIERS):
        errors["courierId"] = [f"Unknown courierId {body.get('courierId')!r}."]
    if body.get("payment") not in ("Sender", "Recipient"):
        errors["payment"] = ["payment must be Sender or Recipient."]
    to = body.get("addressTo") or {}
    for field in ("name", "countyName", "localityName", "addressText", "phone"):
        need(f"addressTo.{field}", to.get(field))
    content = body.get("content") or {}
    parcels = content.get("parcels") or []
    need("content.parcels", parcels)
    for i, parcel in enumerate(parcels):
        if not isinstance(parcel.get("weight"), (int, float)) or parcel["weight"] <= 0:
            errors.setdefault(f"content.parcels[{i}].weight", []).append("The weight must be more than 0 kg.")
    if not isinstance(content.get("totalWeight"), (int, float)) or content.get("totalWeight", 0) <= 0:
        errors.setdefault("content.totalWeight", []).append("The total weight must be more than 0 kg.")
    need("externalOrderId", body.get("externalOrderId"))
    need("externalClientLocation", body.get("externalClientLocation"))
    cod = (body.get("extra") or {}).get("cashOnDeliveryAmount")
    if cod is not None and (not isinstance(cod, (int, float)) or cod <= 0):
        errors["extra.cashOnDeliveryAmount"] = ["The cash on delivery amount must be more than 0."]
    return errors


def _label_pdf(order: dict) -> bytes:
    from weasyprint import HTML  # lazy: WeasyPrint is slow to load and needs Pango; only printing should

    to = order["body"]["addressTo"]
    html = (f"<h1>{COURIERS.get(order['courier'], 'Courier')}</h1><h2>AWB {order['awb']}</h2>"
            f"<p>{to['name']}<br>{to['addressText']}<br>{to['localityName']}, {to['countyName']}</p>"
            f"<p>Ref. {order['externalOrderId']}</p>")
    return HTML(string=html).write_pdf()
