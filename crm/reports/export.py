"""A :class:`~crm.reports.table.Report` as CSV (sections one after another) or Excel (one sheet
per table, numbers as numbers with two decimals). Text that looks like a formula is written as
text (:mod:`crm.core.spreadsheet`)."""
from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

from flask import Response

from crm.core.spreadsheet import safe_row
from crm.reports.table import Report

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NUMBER_FORMATS = {"money": "#,##0.00", "percent": "0.00", "days": "0.0", "int": "0", "qty": "0.000"}


def _sections(report: Report):
    """(title, header, rows, kinds) for the figures and each table, total row last."""
    if report.period is not None:
        yield "Period", ["From", "To", "Grouped by"], \
            [[report.period.start.isoformat(), report.period.end.isoformat(), report.period.grain]], \
            ["text", "text", "text"]
    if report.figures:
        yield "Summary", ["Figure", "Value"], [[f.label, f.value] for f in report.figures], \
            ["text", None]  # None: each row's own kind
    for t in report.tables:
        rows = [[r.get(c.key) for c in t.columns] for r in t.rows]
        if t.total:
            rows.append([t.total.get(c.key) for c in t.columns])
        yield t.title, [c.label for c in t.columns], rows, [c.kind for c in t.columns]
    if report.warnings:
        yield "Warnings", ["Warning"], [[w] for w in report.warnings], ["text"]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):  # already rounded to what the page shows (money 2, days 1 place)
        return format(value, "f")
    return str(value)


def csv_response(report: Report, filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    for title, header, rows, _ in _sections(report):
        writer.writerow(safe_row([title]))
        writer.writerow(safe_row(header))
        writer.writerows([_text(v) for v in safe_row(row)] for row in rows)  # text quoted before numbers become text
        writer.writerow([])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}.csv"})


def _sheet_title(title: str, used: set) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", title)[:31].strip() or "Sheet"
    name, n = base, 2
    while name in used:
        name = f"{base[:28]} {n}"
        n += 1
    used.add(name)
    return name


def xlsx_response(report: Report, filename: str) -> Response:
    from openpyxl import Workbook  # lazy: openpyxl is only for spreadsheet files
    from openpyxl.styles import Font  # lazy: openpyxl is only for spreadsheet files

    book = Workbook()
    book.remove(book.active)
    used: set = set()
    kinds_of_figures = [f.kind for f in report.figures]
    for title, header, rows, kinds in _sections(report):
        sheet = book.create_sheet(_sheet_title(title, used))
        sheet.append(safe_row(header))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for i, row in enumerate(rows):
            # Decimal goes in as a number (openpyxl writes its exact text), never through float
            sheet.append(safe_row(row))
            for j, value in enumerate(row):
                kind = kinds[j] if kinds[j] is not None else kinds_of_figures[i]
                if isinstance(value, (int, Decimal)) and kind in NUMBER_FORMATS:
                    sheet.cell(row=i + 2, column=j + 1).number_format = NUMBER_FORMATS[kind]
        for j, _ in enumerate(header):
            sheet.column_dimensions[sheet.cell(row=1, column=j + 1).column_letter].width = 20
    buf = io.BytesIO()
    book.save(buf)
    return Response(buf.getvalue(), mimetype=XLSX,
                    headers={"Content-Disposition": f"attachment; filename={filename}.xlsx"})
