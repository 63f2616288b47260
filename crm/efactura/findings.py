"""A pre-check finding: which field of which record to correct, and why."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    record: str  # the record a person opens: "Client “ACME” (#3)", "Invoice INV-000012, line 2 “…”"
    field: str  # the field on that record: "state", "VAT number", "due date"
    message: str
    fatal: bool = True
    rule: str | None = None  # the EN 16931 / CIUS-RO rule id, when one applies
    source: str = "pre-check"  # "pre-check", "XSD", "official validator", "ANAF"

    def __str__(self):
        where = f"{self.record}: {self.field}" if self.field else self.record
        rule = f" [{self.rule}]" if self.rule else ""
        return f"{where} {self.message}{rule}"

    def as_dict(self) -> dict:
        return {"record": self.record, "field": self.field, "message": self.message, "fatal": self.fatal,
                "rule": self.rule, "source": self.source}
