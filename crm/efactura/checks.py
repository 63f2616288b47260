"""The pre-check of a generated e-Factura: our CIUS-RO checks, the UBL XSD and, when available,
the official EN 16931 + CIUS-RO validator (XSLT 2.0, run with saxonche).

:func:`precheck` returns every finding; a fatal one blocks sending.
"""
from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

from lxml import etree

from crm.efactura.document import SETTINGS, EDocument
from crm.efactura.findings import Finding

REFERENCE = Path(os.environ.get("EFACTURA_REFERENCE_DIR") or Path(__file__).resolve().parents[2] / "reference"
                 / "efactura")


def _reference_dir() -> Path:
    """Where the UBL XSDs and the official validator are: EFACTURA_REFERENCE_DIR, else reference/efactura."""
    return REFERENCE


def official_xslt() -> Path | None:
    path = Path(os.environ.get("EFACTURA_VALIDATOR_XSLT") or _reference_dir() / "cius-ro-1.0.9"
                / "EN16931-CIUS_RO-UBL-validation.xslt")
    return path if path.is_file() else None


@lru_cache(maxsize=2)
def xsd(kind: str) -> etree.XMLSchema:
    path = _reference_dir() / "ubl-2.1" / "xsd" / "maindoc" / f"UBL-{kind}-2.1.xsd"
    return etree.XMLSchema(etree.parse(str(path)))


# CIUS-RO length limits (BR-RO-Lxxx) on what we write, in the person's terms.
def _lengths(doc: EDocument):
    client = "Client (buyer)"
    yield SETTINGS, "Legal name", doc.supplier.name, 200
    yield SETTINGS, "Street", doc.supplier.street, 150
    yield SETTINGS, "City", doc.supplier.city, 50
    yield SETTINGS, "Postal code", doc.supplier.postal_zone, 20
    yield client, "company", doc.customer.name, 200
    yield client, "address", doc.customer.street, 150
    yield client, "city", doc.customer.city, 50
    yield client, "zip", doc.customer.postal_zone, 20
    yield f"Invoice {doc.number}", "number", doc.number, 200
    for note in doc.notes:
        yield f"Invoice {doc.number}", "client note", note, 300


def own_checks(doc: EDocument) -> list[Finding]:
    """What the XML must satisfy beyond the data findings of :func:`document.from_invoice`."""
    findings = []
    for record, field, value, limit in _lengths(doc):
        if value and len(value) > limit:
            findings.append(Finding(record, field, f"is {len(value)} characters long; e-Factura allows {limit}",
                                    rule="BR-RO-L"))
    if doc.kind == "Invoice" and doc.payable < 0:
        findings.append(Finding(f"Invoice {doc.number}", "total", "is negative; it is sent as a credit note"))
    return findings


def xsd_findings(tree: etree._Element, kind: str) -> list[Finding]:
    schema = xsd(kind)
    if schema.validate(tree):
        return []
    return [Finding(f"Invoice XML, line {e.line}", "", e.message, source="XSD") for e in schema.error_log]


class OfficialValidator:
    """The official Schematron compiled to XSLT, run with saxonche (compiled once, ~0.5 s)."""

    _lock = threading.Lock()
    _instance: "OfficialValidator | None" = None

    def __init__(self, path: Path):
        from saxonche import PySaxonProcessor  # lazy: the Saxon XSLT engine is large; only the ANAF checks load it

        self.proc = PySaxonProcessor(license=False)
        self.executable = self.proc.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(path))

    @classmethod
    def get(cls) -> "OfficialValidator | None":
        path = official_xslt()
        if path is None:
            return None
        try:
            # lazy: the Saxon XSLT engine is large; only the ANAF checks load it
            import saxonche  # noqa: F401
        except ImportError:
            return None
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls(path)
            return cls._instance

    def svrl(self, xml: bytes) -> bytes:
        with self._lock:  # one Saxon processor; transformations are quick
            node = self.proc.parse_xml(xml_text=xml.decode("utf-8"))
            return self.executable.transform_to_string(xdm_node=node).encode("utf-8")

    def findings(self, xml: bytes) -> list[Finding]:
        return parse_svrl(self.svrl(xml))


SVRL = "http://purl.oclc.org/dsdl/svrl"


def parse_svrl(svrl: bytes) -> list[Finding]:
    """Failed asserts and successful reports are both findings (the BR-RO address rules are reports)."""
    root = etree.fromstring(svrl)
    out = []
    for el in root.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        text = " ".join((el.findtext(f"{{{SVRL}}}text") or "").split())
        flag = (el.get("flag") or "fatal").lower()
        out.append(Finding(_record_of(el.get("location") or ""), "", text, fatal=flag == "fatal",
                           rule=el.get("id"), source="official validator"))
    return out


def _record_of(location: str) -> str:
    """Point an XPath location at the record a person edits."""
    if "AccountingSupplierParty" in location:
        return SETTINGS
    if "AccountingCustomerParty" in location:
        return "Client (buyer)"
    if "InvoiceLine" in location or "CreditNoteLine" in location:
        return "Invoice line"
    return "Invoice"


def precheck(doc: EDocument, xml: bytes, data_findings: list[Finding] | None = None,
             official: bool = True) -> list[Finding]:
    findings = list(data_findings or []) + own_checks(doc)
    tree = etree.fromstring(xml)
    findings += xsd_findings(tree, doc.kind)
    if official:
        validator = OfficialValidator.get()
        if validator is not None:
            findings += validator.findings(xml)
    return findings


def blocking(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.fatal]
