"""Innoship, the courier aggregator: book an AWB, fetch its label, track it, cancel it.

API as documented in the vendor's OpenAPI description: header ``X-Api-Key``, ``api-version: 1.0``
as header and query parameter, camelCase JSON. The base URL is the ``innoship_api_url`` option.
"""
from __future__ import annotations

from dataclasses import dataclass

import requests

from crm.core import options

API_VERSION = "1.0"
TIMEOUT = (5, 30)  # connect, read (seconds)


class InnoshipError(Exception):
    """A refused or failed call. ``retry`` says whether trying again later may succeed."""

    def __init__(self, message: str, status: int | None = None, retry: bool = False):
        super().__init__(message)
        self.status, self.retry = status, retry


@dataclass
class Client:
    base_url: str
    api_key: str
    timeout: tuple = TIMEOUT

    @classmethod
    def from_options(cls) -> "Client":
        key = options.get("innoship_api_key")
        if not key:
            raise InnoshipError("Innoship is not configured: set the API key at /admin/innoship.")
        return cls(options.get("innoship_api_url").rstrip("/"), key)

    def _call(self, method: str, path: str, params: dict | None = None, **kw) -> requests.Response:
        try:
            resp = requests.request(method, f"{self.base_url}{path}", timeout=self.timeout,
                                    params={"api-version": API_VERSION, **(params or {})},
                                    headers={"X-Api-Key": self.api_key, "api-version": API_VERSION}, **kw)
        except requests.Timeout:
            raise InnoshipError("Innoship did not answer in time; will retry.", retry=True) from None
        except requests.ConnectionError:
            raise InnoshipError(f"Cannot reach Innoship at {self.base_url}; will retry.", retry=True) from None
        if resp.status_code >= 500:
            raise InnoshipError(f"Innoship answered {resp.status_code}; will retry.", resp.status_code, retry=True)
        if resp.status_code == 401:
            raise InnoshipError("Innoship refused the API key (401): check it at /admin/innoship.", 401)
        if resp.status_code >= 400:
            raise InnoshipError(f"Innoship refused the request: {_message(resp)}", resp.status_code)
        return resp

    def _json(self, resp: requests.Response):
        try:
            return resp.json()
        except ValueError:
            raise InnoshipError("Innoship sent a reply that is not JSON; will retry.", resp.status_code,
                                retry=True) from None

    def create_order(self, body: dict) -> dict:
        data = self._json(self._call("POST", "/api/Order", json=body))
        if not isinstance(data, dict) or not data.get("courierShipmentId"):
            raise InnoshipError("Innoship's reply has no AWB number (courierShipmentId); will retry.", retry=True)
        return data

    def label(self, courier_id: int, awb: str) -> bytes:
        resp = self._call("GET", f"/api/Label/by-courier/{courier_id}/awb/{awb}",
                          params={"type": "PDF", "format": "A6"})
        if not resp.content.startswith(b"%PDF"):
            raise InnoshipError("Innoship's label is not a PDF; will retry.", resp.status_code, retry=True)
        return resp.content

    def track(self, courier_id: int, awbs: list[str]) -> list[dict]:
        data = self._json(self._call("POST", "/api/Track/by-awb/with-return",
                                     json={"courier": courier_id, "awbList": awbs}))
        if not isinstance(data, list):
            raise InnoshipError("Innoship's tracking reply is not a list; will retry.", retry=True)
        return data

    def cancel(self, courier_id: int, awb: str) -> None:
        self._call("DELETE", f"/api/Order/{courier_id}/awb/{awb}")

    def couriers(self) -> list[dict]:
        return self._json(self._call("GET", "/api/Courier/All"))


def _message(resp: requests.Response) -> str:
    """Innoship's own words from an error body (several shapes seen), else the raw text."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:300] or f"HTTP {resp.status_code}"
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, dict):
            return "; ".join(f"{k}: {' '.join(v) if isinstance(v, list) else v}" for k, v in errors.items())
        if isinstance(errors, list):
            return "; ".join(str(e) for e in errors)
        for key in ("message", "title", "detail", "error"):
            if body.get(key):
                return str(body[key])
    return str(body)[:300]
