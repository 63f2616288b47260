"""Spreadsheet import of leads (.xlsx, .csv): read, guess the column mapping, validate each cell,
and import as a job that writes its progress into tblleads_import.

The upload request only stores the file (a server-made name in the "imports" area of
crm/core/storage.py); reading it (counting rows, the header and a preview, catching a file that is not
what it says) is the job :func:`read_upload`, with the same progress bar as the import.

Rows are validated first (progress is committed as it goes); then every good row is inserted in
batches of 1,000 inside ONE transaction, so an import is all-or-nothing even if the worker dies:
"keep good rows" inserts the good rows and reports the bad ones by row number and column;
"refuse the file" inserts nothing when any row is bad.
"""
from __future__ import annotations

import csv
import io
import json
import re
import secrets
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import insert, update

from crm.capture.leads import EXCEL_IMPORT, lead_defaults, source_id
from crm.capture.models import LEAD_FIELD_LABELS, LEAD_TEXT_FIELDS, ImportStatus, LeadImport
from crm.core import storage
from crm.core.activity import log_activity
from crm.core.extensions import db
from crm.core.jobs import job
from crm.core.limits import too_many_places
from crm.core.models.base import EMAIL_RE
from crm.core.registry import ActionError
from crm.sales.models.clients import Lead, LeadStatus

BATCH = 1000
PROGRESS_EVERY = 500
MAX_ERRORS = 1000  # stored and shown; the count is always exact
EXTENSIONS = (".xlsx", ".csv")

IMPORT_FIELDS = {**LEAD_FIELD_LABELS, "lead_value": "Lead value", "status": "Status (name)",
                 "source": "Source (name)"}
SYNONYMS = {
    "name": ["name", "full name", "fullname", "contact", "contact name", "contact person", "person", "nume",
             "nume complet", "persoana de contact"],
    "title": ["title", "position", "job title", "role", "functie", "pozitie"],
    "company": ["company", "company name", "organization", "organisation", "firm", "firma", "companie",
                "societate", "account"],
    "email": ["email", "e-mail", "mail", "email address", "e-mail address", "adresa email"],
    "phonenumber": ["phone", "phone number", "phonenumber", "telephone", "tel", "mobile", "mobile phone",
                    "telefon", "nr telefon"],
    "website": ["website", "web", "site", "url", "web site"],
    "address": ["address", "street", "street address", "adresa", "strada"],
    "city": ["city", "town", "oras", "localitate"],
    "state": ["state", "county", "region", "province", "judet"],
    "zip": ["zip", "zip code", "postal code", "postcode", "cod postal"],
    "country": ["country", "tara"],
    "description": ["description", "notes", "note", "comments", "comment", "message", "descriere", "observatii"],
    "lead_value": ["lead value", "value", "amount", "deal value", "valoare"],
    "status": ["status", "stage", "lead status"],
    "source": ["source", "lead source", "channel", "sursa"],
}


def _norm(text) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(text or "").lower()).strip()


def guess_mapping(headers: list[str]) -> dict[int, str]:
    """Column index -> lead field, by header name; each field used at most once."""
    lookup = {_norm(s): field for field, names in SYNONYMS.items() for s in names}
    lookup.update({_norm(f): f for f in IMPORT_FIELDS})
    lookup.update({_norm(lbl): f for f, lbl in IMPORT_FIELDS.items()})
    out, used = {}, set()
    for i, h in enumerate(headers):
        field = lookup.get(_norm(h))
        if field and field not in used:
            out[i] = field
            used.add(field)
    return out


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != datetime.min.time() else value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def read_rows(path: str | Path):
    """Every row of the first sheet (or the CSV) as a list of strings; the header first."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook  # lazy: openpyxl is only for spreadsheet files

        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            ws = wb.worksheets[0]
            for row in ws.iter_rows(values_only=True):
                yield [_cell(v) for v in row]
        finally:
            wb.close()
        return
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    for row in csv.reader(io.StringIO(text, newline=""), dialect):
        yield [c.strip() for c in row]


def estimate_rows(path: Path) -> int:
    """About how many rows the file has, without reading them (for the progress bar)."""
    try:
        if path.suffix.lower() == ".xlsx":
            from openpyxl import load_workbook  # lazy: openpyxl is only for spreadsheet files

            wb = load_workbook(path, read_only=True)
            try:
                return max((wb.worksheets[0].max_row or 1) - 1, 0)
            finally:
                wb.close()
        lines = 0
        with open(path, "rb") as f:
            while chunk := f.read(1024 * 1024):
                lines += chunk.count(b"\n")
        return lines
    except Exception:  # an unreadable file is reported by inspect_file
        return 0


def inspect_file(path: str | Path, preview: int = 10, progress=None) -> tuple[list[str], list[list[str]], int]:
    """(headers, first data rows, number of data rows). Raises ActionError naming the file field.
    ``progress(rows read)`` is called every PROGRESS_EVERY data rows."""
    try:
        rows = read_rows(path)
        headers = None
        first, total = [], 0
        for row in rows:
            if headers is None:
                if any(row):
                    headers = row
                continue
            if not any(row):
                continue
            total += 1
            if len(first) < preview:
                first.append(row)
            if progress is not None and total % PROGRESS_EVERY == 0:
                progress(total)
    except ActionError:
        raise
    except Exception as exc:  # openpyxl/zipfile/csv errors: the file is not what it says
        raise ActionError(f"file: cannot read this file as {Path(path).suffix.lower()} ({exc.__class__.__name__}).",
                          field="file") from None
    if not headers:
        raise ActionError("file: the file is empty; the first row must name the columns.", field="file")
    if total == 0:
        raise ActionError("file: the file has a header row but no data rows.", field="file")
    while headers and not headers[-1]:
        headers.pop()
    headers = [h or f"Column {i + 1}" for i, h in enumerate(headers)]
    return headers, first, total


class RowValidator:
    """Validates one row against the mapping; statuses are matched by name to existing ones."""

    def __init__(self, mapping: dict[int, str], headers: list[str]):
        self.mapping, self.headers = mapping, headers
        self.statuses = {s.name.strip().lower(): (s.id, s.pipeline) for s in db.session.query(LeadStatus).all()}

    def column(self, index: int) -> str:
        return self.headers[index] if index < len(self.headers) else f"Column {index + 1}"

    def validate(self, row: list[str]) -> tuple[dict, dict[int, str]]:
        values, errors = {}, {}
        for index, field in self.mapping.items():
            value = row[index].strip() if index < len(row) and row[index] is not None else ""
            if not value:
                if field == "name":
                    errors[index] = "Name is required."
                continue
            if field in LEAD_TEXT_FIELDS:
                limit = LEAD_TEXT_FIELDS[field]
                if limit and len(value) > limit:
                    errors[index] = f"at most {limit} characters ({len(value)} given)."
                elif field == "email" and not EMAIL_RE.match(value):
                    errors[index] = f"“{value}” is not a valid email address."
                else:
                    values[field] = value
            elif field == "lead_value":
                try:
                    amount = Decimal(value.replace(" ", "").replace(",", "."))
                    if not amount.is_finite() or abs(amount) >= Decimal("1e13"):
                        raise InvalidOperation
                    if message := too_many_places(amount, 2):  # an amount is not rounded on the way in
                        errors[index] = message
                    else:
                        values[field] = amount
                except InvalidOperation:
                    errors[index] = f"“{value}” is not an amount."
            elif field == "status":
                found = self.statuses.get(value.lower())
                if found is None:
                    errors[index] = f"no lead status is named “{value}” (see /admin/leads/statuses)."
                else:
                    values["status"], values["pipeline"] = found
            elif field == "source":
                values["source_name"] = value[:150]
        return values, errors


def parse_mapping(form) -> tuple[dict[int, str], dict[str, str]]:
    """The mapping chosen on the screen (fields ``map_<column index>``), with errors by field."""
    mapping, errors, used = {}, {}, {}
    for key, field in form.items():
        if not key.startswith("map_") or not field:
            continue
        try:
            index = int(key[4:])
        except ValueError:
            continue
        if field not in IMPORT_FIELDS:
            errors[key] = f"{key}: {field!r} is not a lead field."
            continue
        if field in used:
            errors[key] = f"{key}: {IMPORT_FIELDS[field]} is already mapped to another column."
            continue
        used[field] = index
        mapping[index] = field
    if "name" not in used and not errors:
        errors["map"] = "map: choose the column that holds the lead's Name (a lead needs one)."
    return dict(sorted(mapping.items())), errors


AREA = "imports"  # crm/core/storage.py


def store_upload(upload) -> tuple[str, str]:
    """Save an uploaded FileStorage as it is, unread; returns (original name, stored name).
    ActionError for what can be told without reading it: no file, a wrong type, an empty file."""
    name = Path((upload.filename or "").replace("\\", "/")).name if upload is not None else ""
    if not name:
        raise ActionError("file: choose an .xlsx or .csv file to upload.", field="file")
    ext = Path(name).suffix.lower()
    if ext not in EXTENSIONS:
        raise ActionError(f"file: “{name}” is not an .xlsx or .csv file (old .xls files: save as .xlsx first).",
                          field="file")
    stored, size = storage.save_stream(AREA, upload.stream, ext)
    if size == 0:
        storage.remove(AREA, stored)
        raise ActionError("file: the file is empty; the first row must name the columns.", field="file")
    return name[:255], stored


def upload_path(imp) -> Path:
    """The import's stored file; ActionError when it is gone (or its name would leave the folder)."""
    path = storage.path_of(AREA, imp.stored_path)
    if path is None:
        raise ActionError("file: the uploaded file is no longer stored; upload it again.", field="file")
    return path


@job
def read_upload(import_id: int) -> str:
    """Read an upload: count its rows (the progress bar moves), keep the header and a preview and
    guess the mapping; the import is then ready to map. A file that cannot be read fails here."""
    imp = db.session.get(LeadImport, import_id)
    if imp is None or imp.status != ImportStatus.READING.value:
        return f"import #{import_id}: not waiting to be read, nothing to do"
    try:
        path = upload_path(imp)
        imp.total, imp.done = estimate_rows(path), 0
        db.session.commit()

        def progress(seen: int) -> None:
            imp.done, imp.total = seen, max(imp.total, seen)
            db.session.commit()

        headers, rows, total = inspect_file(path, progress=progress)
    except ActionError as exc:
        _finish(imp, ImportStatus.FAILED, f"{exc.message} Nothing was imported; upload a corrected file.")
        db.session.commit()
        _discard(imp)
        return imp.message
    imp.preview = json.dumps({"headers": headers, "rows": rows})
    imp.mapping = json.dumps(guess_mapping(headers))
    imp.status, imp.total, imp.done = ImportStatus.UPLOADED.value, total, 0
    db.session.commit()
    return f"import #{import_id}: {total} row(s) read"


def _finish(imp, status: ImportStatus, message: str, errors: list | None = None):
    imp.status = status.value
    imp.message = message
    if errors is not None:
        imp.errors = json.dumps(errors[:MAX_ERRORS])
    imp.finished_at = datetime.utcnow()


@job
def run_import(import_id: int) -> str:
    """Validate then insert the import's rows. Safe to run twice: only a queued import runs."""
    claimed = db.session.execute(update(LeadImport).where(LeadImport.id == import_id,
                                                          LeadImport.status == ImportStatus.QUEUED.value)
                                 .values(status=ImportStatus.RUNNING.value, done=0)).rowcount
    db.session.commit()
    if not claimed:
        return f"import #{import_id}: not queued, nothing to do"
    imp = db.session.get(LeadImport, import_id)
    try:
        defaults = lead_defaults(EXCEL_IMPORT)
        rows = read_rows(upload_path(imp))
        headers = None
        mapping = {int(k): v for k, v in json.loads(imp.mapping or "{}").items()}
        validator = None
        good, errors, error_count, seen = [], [], 0, 0
        for rownum, row in enumerate(rows, start=1):
            if headers is None:
                if any(row):
                    headers = row
                    validator = RowValidator(mapping, headers)
                continue
            if not any(row):
                continue
            seen += 1
            values, cell_errors = validator.validate(row)
            if cell_errors:
                error_count += len(cell_errors)
                errors += [{"row": rownum, "column": validator.column(i), "message": m}
                           for i, m in cell_errors.items()]
            else:
                good.append(values)
            if seen % PROGRESS_EVERY == 0:
                imp.done = seen // 2  # validating is the first half of the work
                db.session.commit()
        imp.total = seen
        if errors and imp.mode == "refuse":
            _finish(imp, ImportStatus.REFUSED, f"Refused: {error_count} bad cell(s) in the file; nothing was "
                                               "imported. Correct the rows listed and upload again.", errors)
            imp.done = seen
            db.session.commit()
            _discard(imp)
            return imp.message
        staff = imp.staffid
        sources: dict[str, int] = {}
        now = datetime.utcnow()
        columns = set(LEAD_TEXT_FIELDS) | {"lead_value", "status", "pipeline", "source"}
        batch = []
        for n, values in enumerate(good, start=1):
            name = values.pop("source_name", None)
            if name:
                key = name.lower()
                if key not in sources:
                    sources[key] = source_id(name)
                values["source"] = sources[key]
            row = {c: None for c in columns} | {k: v for k, v in defaults.items()} | values
            row.update(hash=secrets.token_hex(16), addedfrom=staff, dateadded=now)
            batch.append(row)
            if len(batch) == BATCH or n == len(good):
                db.session.execute(insert(Lead), batch)
                batch = []
        imp.imported = len(good)
        imp.done = seen
        skipped = seen - len(good)
        _finish(imp, ImportStatus.DONE, f"Imported {len(good)} lead(s)" +
                (f"; {skipped} row(s) skipped with {error_count} bad cell(s)." if skipped else "."), errors)
        log_activity(None, f"Lead import #{imp.id} ({imp.file_name}): {imp.message}", rel_type="leads_import",
                     rel_id=imp.id)
        db.session.commit()  # the leads and the final state together
    except Exception as exc:
        db.session.rollback()
        imp = db.session.get(LeadImport, import_id)
        message = exc.message if isinstance(exc, ActionError) else f"{exc.__class__.__name__}: {exc}"
        _finish(imp, ImportStatus.FAILED, f"Failed, nothing imported: {message}")
        db.session.commit()
        _discard(imp)
        if not isinstance(exc, ActionError):
            raise
        return imp.message
    _discard(imp)
    return imp.message


def _discard(imp) -> None:
    """A finished import no longer needs its upload (a refused or failed file is uploaded again)."""
    try:
        storage.remove(AREA, imp.stored_path)
    except OSError:
        pass
