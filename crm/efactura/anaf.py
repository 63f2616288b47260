"""ANAF e-Factura client: upload, stareMesaj, descarcare, listaMesajeFactura, XML→PDF, OAuth.

Every call has a timeout; every failure becomes an :class:`AnafError` whose ``kind`` says what
to do: ``token`` (regenerate the token), ``limit`` (daily limit, try tomorrow), ``server`` /
``timeout`` / ``connection`` (try again later), ``refused`` (ANAF said no: read the message),
``malformed`` (an answer we cannot read). ``maybe_received`` is True when the request may have
reached ANAF (a timeout while waiting for the answer): an upload must then not simply be repeated.
Business errors often come with HTTP 200, so every body is parsed.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlencode

import requests
from lxml import etree

from crm.core import options

NS_UPLOAD = "mfp:anaf:dgti:spv:respUploadFisier:v1"
NS_STATUS = "mfp:anaf:dgti:efactura:stareMesajFactura:v1"


class AnafError(Exception):
    def __init__(self, kind: str, message: str, *, status: int | None = None, maybe_received: bool = False):
        super().__init__(message)
        self.kind, self.message, self.status, self.maybe_received = kind, message, status, maybe_received

    @property
    def retry(self) -> bool:
        """Worth trying again later without a person doing anything."""
        return self.kind in ("server", "timeout", "connection", "limit")


@dataclass
class Status:
    state: str  # "ok", "nok", "in prelucrare", "XML cu erori nepreluat de sistem"
    download_id: str | None


def _xml(body: bytes, what: str) -> etree._Element:
    try:
        return etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        raise AnafError("malformed", f"ANAF's answer to {what} is not the XML it documents: "
                        f"{body[:200]!r}") from None


def _errors(root) -> list[str]:
    return [e.get("errorMessage", "") for e in root if etree.QName(e).localname in ("Errors", "Error")]


# Errors that come with HTTP 200 but mean "try later" (the daily call limit).
_LIMIT_WORDS = ("limita", "s-au facut deja", "numarul maxim")


def _classify_message(message: str) -> str:
    return "limit" if any(w in message.lower() for w in _LIMIT_WORDS) else "refused"


class AnafClient:
    def __init__(self, base_url: str, token: str | None, timeout: float = 30, public_url: str | None = None,
                 session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/") + "/"
        self.public_url = (public_url or "").rstrip("/") + "/" if public_url else None
        self.token = token
        self.timeout = timeout
        self.http = session or requests.Session()

    @classmethod
    def from_options(cls) -> "AnafClient":
        return cls(options.get("efactura_api_url"), options.get("efactura_access_token") or None,
                   timeout=options.get("efactura_timeout"), public_url=options.get("efactura_public_url"))

    # --- transport ---
    def _request(self, method: str, path: str, what: str, *, base: str | None = None, auth=True, **kw):
        if auth and not self.token:
            raise AnafError("token", "There is no ANAF token: connect to ANAF at /admin/billing/efactura.")
        headers = kw.pop("headers", {})
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        url = (base or self.base_url) + path
        try:
            kw.setdefault("timeout", self.timeout)
            resp = self.http.request(method, url, headers=headers, **kw)
        except requests.ConnectTimeout:
            raise AnafError("connection", f"ANAF could not be reached for {what} (connection timed out); "
                            "nothing was sent.") from None
        except requests.Timeout:
            raise AnafError("timeout", f"ANAF did not answer {what} within {kw['timeout']:g} s.",
                            maybe_received=True) from None
        except requests.ConnectionError as exc:
            refused = "refused" in str(exc).lower() or "NewConnectionError" in str(exc)
            raise AnafError("connection", f"ANAF could not be reached for {what}: {exc.__class__.__name__}.",
                            maybe_received=not refused) from None
        if resp.status_code == 204:
            raise AnafError("limit", f"ANAF refused {what}: the daily limit of requests has been reached "
                            "(HTTP 204); it will be tried again later.", status=204)
        if resp.status_code in (401, 403):
            raise AnafError("token", f"ANAF refused the token for {what} (HTTP {resp.status_code}): it has "
                            "expired or was revoked. Regenerate it at /admin/billing/efactura.",
                            status=resp.status_code)
        if resp.status_code >= 500:
            raise AnafError("server", f"ANAF's server failed on {what} (HTTP {resp.status_code}); "
                            "it will be tried again later.", status=resp.status_code)
        if resp.status_code >= 400:
            raise AnafError("refused", f"ANAF refused {what} (HTTP {resp.status_code}): "
                            f"{_json_error(resp)}", status=resp.status_code)
        return resp

    # --- e-Factura ---
    def upload(self, xml: bytes, cif: str, standard: str = "UBL", extern: bool = False) -> str:
        """POST upload; returns index_incarcare."""
        params = {"standard": standard, "cif": cif}
        if extern:
            params["extern"] = "DA"
        resp = self._request("POST", f"upload?{urlencode(params)}", "the upload", data=xml,
                             headers={"Content-Type": "text/plain"})
        root = _xml(resp.content, "the upload")
        errors = _errors(root)
        if root.get("ExecutionStatus") == "0" and root.get("index_incarcare"):
            return root.get("index_incarcare")
        message = "; ".join(errors) or "no index_incarcare in the answer"
        kind = _classify_message(message) if errors else "malformed"
        raise AnafError(kind, f"ANAF did not accept the upload: {message}")

    def status(self, index: str) -> Status:
        resp = self._request("GET", f"stareMesaj?{urlencode({'id_incarcare': index})}", "the status check")
        root = _xml(resp.content, "the status check")
        errors = _errors(root)
        if errors:
            message = "; ".join(errors)
            raise AnafError(_classify_message(message), f"ANAF: {message}")
        state = root.get("stare")
        if not state:
            raise AnafError("malformed", "ANAF's status answer has no stare.")
        return Status(state=state, download_id=root.get("id_descarcare"))

    def download(self, download_id: str) -> bytes:
        resp = self._request("GET", f"descarcare?{urlencode({'id': download_id})}", "the download")
        ctype = resp.headers.get("Content-Type", "")
        if "json" in ctype or not resp.content.startswith(b"PK"):
            raise AnafError("refused" if "json" in ctype else "malformed",
                            f"ANAF did not send the archive: {_json_error(resp)}")
        return resp.content

    def messages(self, cif: str, days: int, filtru: str | None = None) -> list[dict]:
        params = {"zile": max(1, min(60, int(days))), "cif": cif}
        if filtru:
            params["filtru"] = filtru
        resp = self._request("GET", f"listaMesajeFactura?{urlencode(params)}", "the message list")
        try:
            data = resp.json()
        except ValueError:
            raise AnafError("malformed", "ANAF's message list is not JSON.") from None
        if not isinstance(data, dict):
            raise AnafError("malformed", "ANAF's message list is not a JSON object.")
        if data.get("eroare"):
            message = str(data["eroare"])
            if "nu exista mesaje" in message.lower():  # "no messages in the last N days": not an error
                return []
            raise AnafError(_classify_message(message), f"ANAF: {message}")
        messages = data.get("mesaje")
        if not isinstance(messages, list):
            raise AnafError("malformed", "ANAF's message list has no mesaje.")
        return messages

    def to_pdf(self, xml: bytes, standard: str = "FACT1") -> bytes:
        """The public XML → PDF transformation (no token)."""
        if not self.public_url:
            raise AnafError("refused", "No ANAF public services URL is set (efactura_public_url).")
        resp = self._request("POST", f"transformare/{standard}", "the PDF transformation", base=self.public_url,
                             auth=False, data=xml, headers={"Content-Type": "text/plain"},
                             timeout=max(self.timeout, 20))  # rendering a PDF takes ANAF a while
        if not resp.content.startswith(b"%PDF"):
            raise AnafError("malformed", f"ANAF did not return a PDF: {_json_error(resp)}")
        return resp.content


def _json_error(resp) -> str:
    try:
        data = resp.json()
    except ValueError:
        return resp.text[:300]
    if isinstance(data, dict):
        return str(data.get("eroare") or data.get("message") or data.get("error") or data)[:300]
    return str(data)[:300]


# --- OAuth 2 (authorization code) ---

class OAuthClient:
    def __init__(self, base_url: str, client_id: str, client_secret: str, redirect_uri: str, timeout: float = 30):
        self.base_url = base_url.rstrip("/") + "/"
        self.client_id, self.client_secret, self.redirect_uri = client_id, client_secret, redirect_uri
        self.timeout = timeout

    def authorize_url(self, state: str) -> str:
        return self.base_url + "authorize?" + urlencode({
            "response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
            "token_content_type": "jwt", "state": state})

    def _token(self, form: dict) -> dict:
        form = {**form, "client_id": self.client_id, "client_secret": self.client_secret,
                "token_content_type": "jwt"}
        try:
            resp = requests.post(self.base_url + "token", data=form, timeout=self.timeout,
                                 auth=(self.client_id, self.client_secret))
        except requests.RequestException as exc:
            raise AnafError("connection", f"ANAF's login service could not be reached: "
                            f"{exc.__class__.__name__}.") from None
        try:
            data = resp.json()
        except ValueError:
            raise AnafError("malformed", f"ANAF's token answer is not JSON (HTTP {resp.status_code}).") from None
        if resp.status_code != 200 or "access_token" not in data:
            detail = data.get("error_description") or data.get("error") or data
            raise AnafError("token", f"ANAF refused the token request: {detail}", status=resp.status_code)
        return data

    def exchange(self, code: str) -> dict:
        return self._token({"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri})

    def refresh(self, refresh_token: str) -> dict:
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})


def jwt_expiry(token: str | None) -> datetime | None:
    """The ``exp`` of a JWT (read, not verified: ANAF verifies it; we only show and schedule)."""
    if not token or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(data["exp"]), tz=timezone.utc).replace(tzinfo=None)
    except (ValueError, KeyError, TypeError):
        return None
