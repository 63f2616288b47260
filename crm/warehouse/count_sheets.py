"""Count sheets of a physical inventory: the printed PDF (blank "Counted" column, signatures), the
Excel / CSV sheet to fill, and reading the filled sheet back.

The sheet's "Line ID" column is the key a filled sheet is matched by, so rows can be sorted or
left out; the header row is found by its column names, so a title above it is fine. Every row is
checked before anything is written: a bad upload is refused whole, each fault named by row and
column as the spreadsheet shows them.
"""
from __future__ import annotations

import csv
import io
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask import render_template

from crm.capture.excel_import import read_rows
from crm.core.documents import Kind, company, fmt_qty, register
from crm.core.registry import ActionInvalid
from crm.core.spreadsheet import safe_row

COLUMNS = ("Line ID", "Item code", "Item", "Unit", "Lot", "Expiry", "Book quantity", "Counted")
KEY, COUNTED = "line id", "counted"
PLACES = 3  # quantities are Numeric(15, 3)
MAX_BYTES = 5 * 1024 * 1024


def sheet_rows(count) -> list[dict]:
    rows = []
    for n, line in enumerate(count.items, start=1):
        item = line.commodity
        rows.append({"n": n, "id": line.id, "code": item.commodity_code if item else "",
                     "name": (item.commodity_name or item.description) if item else "",
                     "unit": (item.unit_type.unit_name if getattr(item, "unit_type", None) else item.unit) if item else "",
                     "lot": line.lot_number or "", "expiry": line.expiry_date, "book": line.book_quantity,
                     "counted": line.counted_quantity})
    return rows


def title(count) -> str:
    return f"Count sheet {count} — {count.warehouse or ''} — {count.date.isoformat() if count.date else ''}"


# --- PDF ---------------------------------------------------------------------------------------

def pdf_html(count) -> str:
    return render_template("pdf/count_sheet.html", count=count, number=str(count), company=company(),
                           lines=sheet_rows(count), qty=fmt_qty)


register(Kind("count_sheet", "PhysicalInventory", "Inventory count sheet", html=pdf_html,
              filename=lambda count: f"count-sheet-{count.code or count.id}"))


# --- Excel / CSV -------------------------------------------------------------------------------


def _values(row) -> list:
    return safe_row([row["id"], row["code"], row["name"], row["unit"] or "", row["lot"], row["expiry"],
                     row["book"], row["counted"]])


def xlsx_bytes(count) -> bytes:
    from openpyxl import Workbook  # lazy: openpyxl is only for spreadsheet files
    from openpyxl.styles import Font  # lazy: openpyxl is only for spreadsheet files

    wb = Workbook()
    ws = wb.active
    ws.title = "Count sheet"
    ws.append(safe_row([title(count)]))
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(["Fill the Counted column; leave it empty for a line not counted. Keep the Line ID column."])
    ws.append([])
    ws.append(list(COLUMNS))
    for cell in ws[4]:
        cell.font = Font(bold=True)
    for row in sheet_rows(count):
        ws.append(_values(row))
        ws.cell(ws.max_row, 6).number_format = "yyyy-mm-dd"
    ws.append([])
    for who in ("Counted by", "Checked by"):
        ws.append(["", "", f"{who}: name, signature, date"])
    for letter, width in zip("ABCDEFGH", (9, 14, 34, 8, 14, 12, 14, 12)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A5"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_text(count) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in sheet_rows(count):
        values = _values(row)
        values[5] = values[5].isoformat() if values[5] else ""
        values[6] = fmt_qty(values[6])
        values[7] = "" if values[7] is None else fmt_qty(values[7])
        writer.writerow(values)
    return out.getvalue()


# --- reading a filled sheet back ---------------------------------------------------------------

def _refuse(*messages: str):
    raise ActionInvalid({"file": list(messages)})


def _rows(file) -> list[list[str]]:
    name = (file.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    suffix = Path(name).suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        _refuse(f"“{name}” is not a count sheet: send the .xlsx or .csv sheet downloaded from this count.")
    data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        _refuse(f"“{name}” is larger than {MAX_BYTES // 1048576} MB; a count sheet is much smaller.")
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        tmp.write(data)
        tmp.flush()
        try:
            return list(read_rows(tmp.name))
        except Exception as exc:  # openpyxl / zip / csv errors: the file is not what its name says
            _refuse(f"“{name}” cannot be read as {suffix} ({exc.__class__.__name__}).")


def _column(i: int) -> str:
    from openpyxl.utils import get_column_letter  # lazy: openpyxl is only for spreadsheet files

    return get_column_letter(i + 1)


def _quantity(raw: str) -> Decimal:
    text = raw.replace(" ", "").replace("\u00a0", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # 2,5 as a comma-decimal spreadsheet writes it
    value = Decimal(text)
    if not value.is_finite():
        raise InvalidOperation
    return value


def read_counts(count, file) -> dict[int, Decimal]:
    """{line id: counted} from a filled sheet; ActionInvalid naming every bad row and column."""
    rows = _rows(file)
    header_at = next((i for i, row in enumerate(rows)
                      if {KEY, COUNTED} <= {c.strip().lower() for c in row}), None)
    if header_at is None:
        _refuse("The sheet has no header row with the columns “Line ID” and “Counted”; "
                "download the count sheet of this count and fill it.")
    header = [c.strip().lower() for c in rows[header_at]]
    key_col, counted_col = header.index(KEY), header.index(COUNTED)
    lines = {ln.id for ln in count.items}
    counts, first_row, errors = {}, {}, []
    for i in range(header_at + 1, len(rows)):
        row, at = rows[i], i + 1  # the row number the spreadsheet shows
        raw_id = row[key_col].strip() if key_col < len(row) else ""
        raw_count = row[counted_col].strip() if counted_col < len(row) else ""
        where_id = f"Row {at}, column {_column(key_col)} (Line ID)"
        where_count = f"Row {at}, column {_column(counted_col)} (Counted)"
        if not raw_id:
            if raw_count:
                errors.append(f"{where_id}: empty, so the count {raw_count!r} cannot be matched to a line.")
            continue  # blank rows, the signature lines
        if not raw_id.isdigit() or int(raw_id) not in lines:
            errors.append(f"{where_id}: {raw_id!r} is not a line of {count}.")
            continue
        line_id = int(raw_id)
        if line_id in first_row:
            errors.append(f"{where_id}: line {line_id} is already on row {first_row[line_id]}.")
            continue
        first_row[line_id] = at
        if not raw_count:
            continue  # not counted (yet)
        try:
            value = _quantity(raw_count)
        except (InvalidOperation, ValueError):
            errors.append(f"{where_count}: {raw_count!r} is not a number.")
            continue
        if value < 0:
            errors.append(f"{where_count}: {raw_count} is negative; a count is zero or more.")
        elif value != value.quantize(Decimal(1).scaleb(-PLACES)):
            errors.append(f"{where_count}: {raw_count} has more than {PLACES} decimals.")
        else:
            counts[line_id] = value
    if errors:
        _refuse(*errors)
    if not counts:
        _refuse("The sheet has no counts: fill the Counted column.")
    return counts
