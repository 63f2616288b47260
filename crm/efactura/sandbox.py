"""A stand-in for ANAF's e-Factura API and OAuth service, on loopback, for the tests and the demo.

It speaks the documented shapes (see reference/efactura and tests/data/anaf-samples): upload →
``respUploadFisier`` header with index_incarcare; stareMesaj → ``stareMesajFactura`` header
(``in prelucrare`` on the first poll, then ``ok`` or ``nok``); descarcare → a ZIP with
``<id>.xml`` and ``semnatura_<id>.xml``; listaMesajeFactura → ``{"mesaje": [...]}``; OAuth
authorize (the certificate login, answered at once) and token (JWTs with ``exp``).

Uploads are judged with the project's own checks (XSD, CIUS-RO rules and, when present, the
official validator), so a bad invoice comes back ``nok`` with its errors in the ZIP.

A person using the demo chooses what the next upload gets (:meth:`AnafSandbox.choose_next`, the
form on the e-Factura settings screen): accepted, rejected with errors, HTTP 500, or no answer.

Faults for tests: ``sandbox.fail("upload", "500" | "timeout" | "timeout_after" | "204" |
"malformed" | "401" | <bytes of a recorded answer>)`` makes the next call to that endpoint fail
that way ("timeout_after" keeps the upload, as a real server that answered too late would).
"""
from __future__ import annotations

import base64
import io
import itertools
import json
import secrets
import threading
import time
import zipfile
from collections import defaultdict, deque
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from lxml import etree
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from crm.efactura import checks
from crm.efactura.anaf import jwt_expiry

UPLOAD_NS = "mfp:anaf:dgti:spv:respUploadFisier:v1"
STATUS_NS = "mfp:anaf:dgti:efactura:stareMesajFactura:v1"
ERRORS_NS = "mfp:anaf:dgti:efactura:mesajEroriFactuta:v1"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def make_jwt(exp: datetime, subject="sandbox") -> str:
    return ".".join([_b64({"alg": "RS512", "typ": "JWT"}),
                     _b64({"sub": subject, "exp": int(exp.replace(tzinfo=timezone.utc).timestamp()),
                           "jti": secrets.token_hex(8)}), secrets.token_urlsafe(16)])


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace("\n", "&#xA;")


def judge(xml: bytes) -> list[str]:
    """What ANAF would say about an uploaded invoice: its fatal findings, as text."""
    from lxml.etree import XMLSyntaxError  # lazy: only the sandbox's XML checks need it

    try:
        tree = etree.fromstring(xml)
    except XMLSyntaxError as exc:
        return [f"E: XML invalid: {exc}"]
    kind = etree.QName(tree).localname
    if kind not in ("Invoice", "CreditNote"):
        return [f"E: document {kind} is not an Invoice or CreditNote"]
    findings = checks.xsd_findings(tree, kind)
    validator = checks.OfficialValidator.get()
    if validator is not None and not findings:
        findings += validator.findings(xml)
    return [f"E: {f.rule or f.source}: {f.message}" for f in findings if f.fatal]


# What the next upload gets, as a person chooses it in the demo (one upload, then "accept" again).
NEXT_ANSWERS = {
    "accept": "accepted (ok), unless the invoice fails the checks",
    "reject": "rejected with errors (nok): the errors below come back in ANAF's ZIP",
    "fail500": "refused with HTTP 500 (ANAF's server fails; nothing registered)",
    "timeout": "no answer in time (ANAF keeps the upload; the invoice is left uncertain)",
}
DEFAULT_REJECTION = ("E: validari globale eroare regula: BR-RO-100: Daca codul tarii este RO, orasul trebuie "
                     "sa fie codificat (respins de sandbox la cerere)")


class AnafSandbox:
    def __init__(self, polls_before_result: int = 1, token_days: int = 90):
        self.polls_before_result = polls_before_result
        self.timeout_sleep = 3.0  # how long a "timeout" fault keeps the caller waiting
        self.token_days = token_days
        self.uploads: dict[str, dict] = {}
        self.archives: dict[str, bytes] = {}
        self.messages: list[dict] = []
        self.tokens: dict[str, datetime] = {}  # access token -> expiry
        self.refresh_tokens: set[str] = set()
        self.codes: set[str] = set()
        self.faults: dict[str, deque] = defaultdict(deque)
        self.unknown_cifs: set[str] = set()  # sellers ANAF does not know (rule R6.1)
        self.accept_any_token = False  # the demo: tokens survive a restart of the sandbox
        self.calls: dict[str, int] = defaultdict(int)
        self.next_upload = "accept"  # NEXT_ANSWERS
        self.next_errors: list[str] = []
        self._ids = itertools.count(5000000001)
        self._lock = threading.Lock()
        self._server = None
        self.url = None

    # --- test controls ---
    def fail(self, endpoint: str, *faults: str) -> None:
        self.faults[endpoint].extend(faults)

    def choose_next(self, answer: str, errors: str | None = None, sleep: float | None = None) -> None:
        """What the next upload gets (NEXT_ANSWERS); ``errors``: one rejection error a line;
        ``sleep``: how long "timeout" keeps the caller waiting (longer than its timeout)."""
        if answer not in NEXT_ANSWERS:
            raise ValueError(f"unknown answer {answer!r}; one of {', '.join(NEXT_ANSWERS)}")
        with self._lock:
            self.next_upload = answer
            self.next_errors = [e.strip() for e in (errors or "").splitlines() if e.strip()] or [DEFAULT_REJECTION]
            if sleep is not None:
                self.timeout_sleep = sleep

    def _next_fault(self) -> str | None:
        """The fault the next upload was chosen to get (taken: one upload), or None."""
        with self._lock:
            fault = {"fail500": "500", "timeout": "timeout_after"}.get(self.next_upload)
            if fault:
                self.next_upload = "accept"
            return fault

    def issue_token(self, days: float | None = None) -> str:
        exp = datetime.utcnow() + timedelta(days=self.token_days if days is None else days)
        token = make_jwt(exp)
        self.tokens[token] = exp
        return token

    def receive(self, xml: bytes, cif_emitent: str, cif_beneficiar: str) -> str:
        """A supplier's invoice arrives for us: a FACTURA PRIMITA message with its ZIP."""
        with self._lock:
            mid = str(next(self._ids))
            self.archives[mid] = self._zip(mid, xml)
            self.messages.append({"data_creare": datetime.now().strftime("%Y%m%d%H%M"), "cif": cif_beneficiar,
                                  "id_solicitare": str(next(self._ids)), "tip": "FACTURA PRIMITA", "id": mid,
                                  "detalii": f"Factura cu id_incarcare={mid} emisa de cif_emitent={cif_emitent} "
                                             f"pentru cif_beneficiar={cif_beneficiar}"})
            return mid

    # --- server ---
    def start(self) -> "AnafSandbox":
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        host, port = self._server.server_address[:2]
        self.root = f"http://{host}:{port}/"
        self.url = self.root + "test/FCTEL/rest/"
        self.oauth_url = self.root + "anaf-oauth2/v1/"
        self.public_url = self.root + "prod/FCTEL/rest/"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- WSGI ---
    def wsgi(self, environ, start_response):
        request = Request(environ)
        parts = request.path.rstrip("/").split("/")
        endpoint = parts[-1]
        if len(parts) > 1 and parts[-2] in ("validare", "transformare"):  # …/transformare/FACT1 or /FCN
            endpoint = parts[-2]
        self.calls[endpoint] += 1
        fault = self.faults[endpoint].popleft() if self.faults[endpoint] else None
        if fault is None and endpoint == "upload":
            fault = self._next_fault()
        response = self._fault(fault, endpoint, request)
        if response is None:
            handler = getattr(self, f"_ep_{endpoint}", None)
            response = handler(request) if handler else Response("not found", 404)
        return response(environ, start_response)

    def _fault(self, fault, endpoint, request):
        if fault is None:
            return None
        if isinstance(fault, bytes):  # a recorded ANAF answer, served as it is
            return Response(fault, 200, content_type="application/xml")
        if fault == "500":
            return Response("<html><body>Internal Server Error</body></html>", 500, content_type="text/html")
        if fault == "204":
            return Response(status=204)
        if fault == "401":
            return _json({"status": 401, "error": "Unauthorized", "message": "Invalid token"}, 401)
        if fault == "malformed":
            return Response("<html>Service temporarily unavailable", 200, content_type="text/html")
        if fault in ("timeout", "timeout_after"):
            if fault == "timeout_after" and endpoint == "upload":
                self._ep_upload(request)  # ANAF took it, but the answer comes too late
            time.sleep(self.timeout_sleep)
            return Response("late", 200)
        raise ValueError(f"unknown fault {fault!r}")

    def _authorized(self, request) -> Response | None:
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else None
        exp = self.tokens.get(token or "")
        if exp is None and self.accept_any_token:
            exp = jwt_expiry(token)
        if exp is None or exp <= datetime.utcnow():
            return _json({"timestamp": datetime.utcnow().isoformat(), "status": 401, "error": "Unauthorized",
                          "message": "Token expirat sau invalid"}, 401)
        return None

    def _ep_upload(self, request):
        if (refused := self._authorized(request)) is not None:
            return refused
        standard = request.args.get("standard")
        if standard not in ("UBL", "CN", "CII", "RASP"):
            return _header(UPLOAD_NS, {"dateResponse": _now(), "ExecutionStatus": "1"},
                           "Valorile acceptate pentru parametrul standard sunt UBL, CII sau RASP")
        cif = request.args.get("cif", "")
        if not cif.isdigit():
            return _header(UPLOAD_NS, {"dateResponse": _now(), "ExecutionStatus": "1"},
                           f"CIF introdus= {cif} nu este un numar")
        with self._lock:
            index = str(next(self._ids))
            rejected = self.next_errors if self.next_upload == "reject" else []
            self.next_upload = "accept" if rejected else self.next_upload
            self.uploads[index] = {"xml": request.get_data(), "cif": cif, "standard": standard, "polls": 0,
                                   "result": None, "errors": list(rejected)}
        return _header(UPLOAD_NS, {"dateResponse": _now(), "ExecutionStatus": "0", "index_incarcare": index})

    def _ep_stareMesaj(self, request):
        if (refused := self._authorized(request)) is not None:
            return refused
        index = request.args.get("id_incarcare", "")
        if not index.isdigit():
            return _header(STATUS_NS, {}, f"Id_incarcare introdus= {index} nu este un numar intreg")
        upload = self.uploads.get(index)
        if upload is None:
            return _header(STATUS_NS, {}, f"Nu exista factura cu id_incarcare= {index}")
        with self._lock:
            upload["polls"] += 1
            if upload["polls"] <= self.polls_before_result:
                return _header(STATUS_NS, {"stare": "in prelucrare"})
            if upload["result"] is None:
                self._decide(index, upload)
        return _header(STATUS_NS, {"stare": upload["result"], "id_descarcare": upload["download_id"]})

    def _decide(self, index, upload):
        errors = judge(upload["xml"]) + upload.get("errors", [])
        if upload["cif"] in self.unknown_cifs:  # ANAF's own server-side check (R6.1)
            errors.append(f"E: validari globale\n eroare regula: R6.1: CIF-ul vanzatorului nu figureaza in baza "
                          f"de date:{upload['cif']}")
        download_id = str(next(self._ids))
        if errors:
            body = (XML_HEAD + f'<header xmlns="{ERRORS_NS}" Index_incarcare="{index}" Cif_emitent="{upload["cif"]}">'
                    + "".join(f'<Error errorMessage="{_attr(e)}"/>' for e in errors) + "</header>").encode()
            upload["result"] = "nok"
        else:
            body = upload["xml"]
            upload["result"] = "ok"
        upload["download_id"] = download_id
        self.archives[download_id] = self._zip(download_id, body)
        self.messages.append({"data_creare": datetime.now().strftime("%Y%m%d%H%M"), "cif": upload["cif"],
                              "id_solicitare": index, "id": download_id,
                              "tip": "FACTURA TRIMISA" if not errors else "ERORI FACTURA",
                              "detalii": f"Factura cu id_incarcare={index} emisa de cif_emitent={upload['cif']}"})

    @staticmethod
    def _zip(download_id: str, body: bytes) -> bytes:
        signature = (XML_HEAD + '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>'
                     '<CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></SignedInfo>'
                     f"<SignatureValue>{base64.b64encode(secrets.token_bytes(64)).decode()}</SignatureValue>"
                     "</Signature>").encode()
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"{download_id}.xml", body)
            zf.writestr(f"semnatura_{download_id}.xml", signature)
        return buf.getvalue()

    def _ep_descarcare(self, request):
        if (refused := self._authorized(request)) is not None:
            return refused
        download_id = request.args.get("id", "")
        archive = self.archives.get(download_id)
        if archive is None:
            return _json({"eroare": f"Pentru id={download_id} nu exista inregistrata nici o factura",
                          "titlu": "Descarcare mesaj"}, 200)
        return Response(archive, 200, content_type="application/zip")

    def _ep_listaMesajeFactura(self, request):
        if (refused := self._authorized(request)) is not None:
            return refused
        cif = request.args.get("cif", "")
        days = request.args.get("zile", "")
        if not days.isdigit() or not 1 <= int(days) <= 60:
            return _json({"eroare": "Numarul de zile trebuie sa fie intre 1 si 60", "titlu": "Lista Mesaje"})
        kinds = {"E": "ERORI FACTURA", "T": "FACTURA TRIMISA", "P": "FACTURA PRIMITA", "R": "MESAJ CUMPARATOR"}
        wanted = kinds.get(request.args.get("filtru", ""))
        found = [m for m in self.messages if m["cif"] == cif and (wanted is None or m["tip"] == wanted)]
        if not found:
            return _json({"eroare": f"Nu exista mesaje in ultimele {days} zile", "titlu": "Lista Mesaje"})
        return _json({"mesaje": found, "serial": secrets.token_hex(8), "cui": cif, "titlu": "Lista Mesaje"})

    # transformare/FACT1 renders an Invoice, transformare/FCN a CreditNote.
    PDF_STANDARDS = {"FACT1": ("Invoice", "Factura"), "FCN": ("CreditNote", "Nota de credit")}

    def _ep_transformare(self, request):
        from weasyprint import HTML  # lazy: WeasyPrint is slow to load and needs Pango; only printing should

        standard = request.path.rstrip("/").rsplit("/", 1)[-1]
        if standard not in self.PDF_STANDARDS:
            return _json({"stare": "nok", "Messages": [{"message": f"Standard necunoscut: {standard}"}]}, 200)
        kind, title = self.PDF_STANDARDS[standard]
        try:
            root = etree.fromstring(request.get_data())
        except etree.XMLSyntaxError:
            return _json({"stare": "nok", "Messages": [{"message": "XML invalid"}]}, 200)
        if etree.QName(root).localname != kind:
            return _json({"stare": "nok", "Messages": [{"message": f"Documentul nu este {kind} ({standard})"}]},
                         200)
        number = root.findtext("{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}ID")
        pdf = HTML(string=f"<h1>{title} {number}</h1><p>Vizualizare e-Factura (sandbox)</p>").write_pdf()
        return Response(pdf, 200, content_type="application/pdf")

    # --- OAuth ---
    def _ep_authorize(self, request):
        """The certificate login is interactive at ANAF; here it succeeds at once."""
        redirect_uri = request.args.get("redirect_uri")
        if request.args.get("response_type") != "code" or not redirect_uri or not request.args.get("client_id"):
            return _json({"error": "invalid_request"}, 400)
        code = secrets.token_urlsafe(12)
        self.codes.add(code)
        query = {"code": code}
        if request.args.get("state"):
            query["state"] = request.args["state"]
        return Response(status=302, headers={"Location": f"{redirect_uri}?{urlencode(query)}"})

    def _ep_token(self, request):
        grant = request.form.get("grant_type")
        if not request.form.get("client_id") or not request.form.get("client_secret"):
            return _json({"error": "invalid_client"}, 401)
        if grant == "authorization_code":
            if request.form.get("code") not in self.codes:
                return _json({"error": "invalid_grant", "error_description": "Codul de autorizare este invalid"},
                             400)
            self.codes.discard(request.form["code"])
        elif grant == "refresh_token":
            if request.form.get("refresh_token") not in self.refresh_tokens:
                return _json({"error": "invalid_grant", "error_description": "Refresh token invalid"}, 400)
            self.refresh_tokens.discard(request.form["refresh_token"])
        else:
            return _json({"error": "unsupported_grant_type"}, 400)
        access = self.issue_token()
        refresh = make_jwt(datetime.utcnow() + timedelta(days=365))
        self.refresh_tokens.add(refresh)
        return _json({"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
                      "expires_in": self.token_days * 86400, "scope": "efactura"})


def _now() -> str:
    return datetime.now().strftime("%Y%m%d%H%M")


def _header(ns: str, attrs: dict, error: str | None = None) -> Response:
    attributes = "".join(f' {k}="{_attr(str(v))}"' for k, v in attrs.items() if v is not None)
    inner = f'<Errors errorMessage="{_attr(error)}"/>' if error else ""
    body = XML_HEAD + f'<header xmlns="{ns}"{attributes}>{inner}</header>'
    return Response(body, 200, content_type="application/xml")


def _json(data, status=200) -> Response:
    return Response(json.dumps(data), status, content_type="application/json")


MOUNT = "/sandbox/anaf"


def for_app(app) -> AnafSandbox:
    """The stand-in the demo serves inside the app at /sandbox/anaf (tokens and login codes of a
    previous run keep working, since the sandbox's memory does not survive a restart)."""
    sandbox = AnafSandbox(polls_before_result=1)
    sandbox.accept_any_token = True
    sandbox.codes = _AnyCode()
    app.extensions["anaf_sandbox"] = sandbox
    return sandbox


class _AnyCode(set):
    """The demo's login codes: any non-empty code is one ANAF issued (the sandbox forgets on restart)."""

    def __contains__(self, code):
        return bool(code)


def demo_urls(base: str) -> dict[str, str]:
    """The efactura_* URL options pointing at the stand-in served by the app at ``base``."""
    root = base.rstrip("/") + MOUNT
    return {"efactura_api_url": f"{root}/test/FCTEL/rest/", "efactura_oauth_url": f"{root}/anaf-oauth2/v1/",
            "efactura_public_url": f"{root}/prod/FCTEL/rest/"}
