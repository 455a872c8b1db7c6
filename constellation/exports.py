"""The dashboards' and the evaluation return's exports: a ``Table`` as CSV, or several
as one Excel workbook, and the HTTP responses that download them (issue 12).

The same ``Table`` object is shown on the page and exported, so the figures agree.
Everything here is about how a spreadsheet will read the file:

- Text is data, never a formula. A text cell that a spreadsheet would run as a
  formula (one starting with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or
  a line feed, also after leading spaces, or with their full-width forms) is
  prefixed with ``'`` (OWASP's advice on CSV injection): a household named
  ``=HYPERLINK(...)`` reads as that text and links nowhere. The workbook holds the
  prefix too, so a CSV saved from it later is as safe.
- Numbers stay numbers (-3 is the number -3, not text); an empty cell is a value
  that was not recorded (``None``); dates are real dates.
- The workbook is written with XlsxWriter's type-guessing switched off, each value
  through the writer of its column's kind: no cell of it is ever a formula or a link.

No audit record is written here: the view that answers the download does that.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from .tables import Column, Table

# What a spreadsheet takes as the start of a formula (OWASP "CSV Injection"), with the
# full-width forms that some spreadsheets also accept when text is typed or imported.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
PREFIX = "'"

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Excel's limits: a sheet name has at most 31 characters, none of these, does not
# start or end with an apostrophe, and is unique ignoring case; "History" is
# reserved. A cell holds at most 32,767 characters.
SHEET_NAME_MAX = 31
# Excel's forbidden characters in a sheet name, and what each becomes.
SHEET_NAME_REPLACEMENTS = str.maketrans(
    {"[": "(", "]": ")", ":": " -", "/": "-", "\\": "-", "*": " ", "?": " "}
)
RESERVED_SHEET_NAMES = frozenset({"history"})
CELL_TEXT_MAX = 32767
ABOUT_SHEET = "About"

# How a column's values read in the workbook, as on the page (``measure_tags``).
_XLSX_NUMBER_FORMATS = {
    "int": "#,##0",
    "float": "#,##0.0",
    "percent": "0.0%",
    "date": "d mmm yyyy",
}
_WIDTH_MIN, _WIDTH_MAX, _HEADER_WIDTH_MAX = 8, 60, 30

_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_FILENAME_MAX = 100


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet will show it and never run.

    In: any ``str``. Out: the same text, prefixed with ``'`` when its first
    character, or its first character after leading whitespace, is one that starts a
    formula: ``=``, ``+``, ``-``, ``@``, tab, carriage return, line feed, or the
    full-width ``＝``, ``＋``, ``－``, ``＠``. Other text comes back unchanged, so
    ``"-3"`` (text) becomes ``"'-3"`` and ``"Ash House"`` stays as it is.

    Refused (``TypeError``): anything that is not a ``str``. Numbers never pass through
    here: the exports write them as numbers, so -3 stays the number -3.
    """
    if not isinstance(text, str):
        raise TypeError(f"neutralise() takes text, not {type(text).__name__}")
    if text[:1] in FORMULA_TRIGGERS or text.lstrip()[:1] in FORMULA_TRIGGERS:
        return PREFIX + text
    return text


def _text(value: str) -> str:
    """Any text (a title, a label, a definition) as a workbook cell holds it:
    neutralised, cut to what one cell holds (the prefix, if any, kept)."""
    return neutralise(value)[:CELL_TEXT_MAX]


def _cell(table: Table, column: Column, value: Any) -> Any:
    """The value checked against its column's kind: ``None``, neutralised text, a
    number (int, float or Decimal, finite, not a bool) or a ``date``."""
    if value is None:
        return None
    where = f"{table.name}.{column.key}"
    if column.kind == "text":
        return neutralise(str(value))
    if column.kind == "date":
        if isinstance(value, datetime):
            # A moment is reduced to its London date (naive ones are taken as London's).
            return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
        if isinstance(value, date):
            return value
        raise TypeError(f"{where} is a date column; got {type(value).__name__}")
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TypeError(f"{where} is a {column.kind} column; got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{where} holds {value!r}: a figure must be a finite number")
    return value


def _csv_label(column: Column) -> str:
    return f"{column.label} (%)" if column.kind == "percent" else column.label


def _csv_text(column: Column, value: Any) -> str:
    """How a checked value is written in a CSV file."""
    if value is None:
        return ""
    if column.kind == "text":
        return value
    if column.kind == "date":
        return value.isoformat()
    if column.kind == "percent":
        return f"{float(value) * 100:.1f}"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def table_csv(table: Table) -> bytes:
    """One table as a CSV file for a spreadsheet.

    In: a ``Table``. Out: the file's bytes, UTF-8 with a byte-order mark (so Excel
    reads accented names), lines ending CRLF, quoted only where needed. The first row
    holds the columns' labels (a percent column's with " (%)" after it); then one row
    per row of the table, in column order:

    - text: neutralised (see ``neutralise``);
    - int, float: the number as written by Python (``-3``, ``2.5``), never quoted;
    - percent: the share times 100 to one decimal (0.456 is ``45.6``);
    - date: ISO 8601 (``2027-01-31``); an aware datetime counts as its London date;
    - ``None``: an empty cell, whatever the kind.

    Refused: a number column holding something that is not a number (``TypeError``;
    a bool counts as not a number), NaN or infinity (``ValueError``), a date column
    holding something that is not a date (``TypeError``).
    """
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([neutralise(_csv_label(c)) for c in table.columns])
    for row in table.rows:
        writer.writerow(
            [
                _csv_text(c, _cell(table, c, v))
                for c, v in zip(table.columns, table.values(row), strict=True)
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def _xml_safe(text: str) -> str:
    """``text`` without the characters an XML file cannot hold as they are (control
    characters, U+FFFE, U+FFFF): for a sheet's name and the document's title, which
    XlsxWriter does not escape as it does a cell's text."""
    return "".join(
        ch for ch in text if unicodedata.category(ch) != "Cc" and ch not in "\ufffe\uffff"
    )


def _utf16_cut(text: str, limit: int) -> str:
    """The longest start of ``text`` within ``limit`` UTF-16 code units, as Excel
    counts a sheet name's length (a character beyond U+FFFF counts twice)."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return text[:i]
    return text


def _sheet_name(wanted: str, taken: set[str]) -> str:
    """A name Excel accepts for a sheet, unlike any in ``taken`` (lower-cased names;
    the new one is added): Excel's forbidden characters replaced (``[`` and ``]`` by round
    brackets, ``:`` by " -", ``/`` and ``\\`` by "-", ``*`` and ``?`` by a space),
    runs of whitespace made one space, characters XML cannot hold dropped, no
    apostrophe at either end, at most 31 characters (UTF-16 units, as Excel counts);
    a duplicate (ignoring case) or "History" numbered " (2)", " (3)", ..."""
    name = wanted.translate(SHEET_NAME_REPLACEMENTS)
    name = _xml_safe(" ".join(name.split())).strip("'").strip() or "Sheet"
    base = _utf16_cut(name, SHEET_NAME_MAX).rstrip().rstrip("'") or "Sheet"
    candidate, n = base, 1
    while candidate.lower() in taken or candidate.lower() in RESERVED_SHEET_NAMES:
        n += 1
        suffix = f" ({n})"
        candidate = _utf16_cut(base, SHEET_NAME_MAX - len(suffix)).rstrip() + suffix
    taken.add(candidate.lower())
    return candidate


def _display_width(column: Column, value: Any) -> int:
    """Roughly how many characters the value takes in its cell."""
    if value is None:
        return 0
    if column.kind == "text":
        return max((len(line) for line in value.splitlines()), default=0)
    if column.kind == "date":
        return 11  # "31 Dec 2027"
    if column.kind == "percent":
        return len(f"{float(value) * 100:.1f}%")
    if column.kind == "float":
        return len(f"{float(value):,.1f}")
    return len(f"{int(value):,}")


def _write_about(workbook, sheet, fmt, title: str, placed: list[tuple[str, Table]]) -> None:
    """The first sheet: what the workbook holds and what each column counts."""
    sheet.set_column(0, 0, 36, fmt["wrap"])
    sheet.set_column(1, 1, 100, fmt["wrap"])
    sheet.write_string(0, 0, _text(title), fmt["title"])
    sheet.write_string(
        1,
        0,
        "An empty cell means the figure was not recorded. "
        "Percentages are shares of the whole (50.0% is one half). "
        "Each sheet's columns are explained below.",
        fmt["plain"],
    )
    r = 3
    for name, table in placed:
        sheet.write_string(r, 0, _text(f"{table.title} (sheet \u201c{name}\u201d)"), fmt["bold"])
        r += 1
        sheet.write_string(r, 0, "Column", fmt["header"])
        sheet.write_string(r, 1, "What it counts", fmt["header"])
        r += 1
        for column in table.columns:
            sheet.write_string(r, 0, _text(column.label), fmt["wrap"])
            sheet.write_string(r, 1, _text(column.definition), fmt["wrap"])
            r += 1
        r += 1


def _write_table(sheet, fmt, table: Table) -> None:
    widths = [min(len(c.label), _HEADER_WIDTH_MAX) for c in table.columns]
    for col, column in enumerate(table.columns):
        sheet.write_string(0, col, _text(column.label), fmt["header"])
    for r, row in enumerate(table.rows, start=1):
        for col, (column, raw) in enumerate(zip(table.columns, table.values(row), strict=True)):
            value = _cell(table, column, raw)
            widths[col] = max(widths[col], _display_width(column, value))
            if value is None:
                continue  # an empty cell: not recorded
            if column.kind == "text":
                # Neutralised by _cell. XlsxWriter writes a look-alike of the file's
                # own escapes ("_x003D_" stands for "=") escaped, so it reads as typed.
                sheet.write_string(r, col, value[:CELL_TEXT_MAX])
            elif column.kind == "date":
                sheet.write_datetime(r, col, value, fmt["date"])
            else:
                sheet.write_number(r, col, float(value), fmt[column.kind])
    for col, width in enumerate(widths):
        sheet.set_column(col, col, max(_WIDTH_MIN, min(width + 2, _WIDTH_MAX)))
    sheet.freeze_panes(1, 0)


def tables_xlsx(tables: list[Table], *, title: str) -> bytes:
    """Tables as one Excel workbook.

    In: one or more ``Table`` objects and the workbook's title (its document title
    and the heading of its first sheet). Out: the ``.xlsx`` file's bytes, holding:

    - a first sheet "About": the title, what an empty cell and a percentage mean,
      and for each table its columns' labels beside their definitions;
    - one sheet per table, named after its title (Excel's forbidden characters
      ``[]:*?/\\`` replaced, cut to 31 characters, a repeated name numbered " (2)"),
      with a bold header row that stays in view and columns sized to their values.

    Cells are typed by their column's kind: text as strings, neutralised (see
    ``neutralise``; cut at Excel's 32,767 characters; a look-alike of the file's own
    escapes such as "_x003D_" kept as typed, not read as "="); int and float as numbers;
    percent as the share (0.456) shown as ``45.6%``; dates as dates shown like the
    page ("31 Jan 2027"); ``None`` as an empty cell. No cell is a formula or a link.

    Refused: an empty list of tables (``ValueError``), and the values ``table_csv``
    refuses (``TypeError``/``ValueError``), the workbook then not being made.
    """
    if not tables:
        raise ValueError("An export needs at least one table")
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        output,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    workbook.set_properties({"title": _xml_safe(title)})
    fmt = {
        "title": workbook.add_format({"bold": True, "font_size": 14}),
        "plain": workbook.add_format({}),
        "bold": workbook.add_format({"bold": True}),
        "header": workbook.add_format(
            {"bold": True, "text_wrap": True, "valign": "top", "bottom": 1}
        ),
        "wrap": workbook.add_format({"text_wrap": True, "valign": "top"}),
        **{
            kind: workbook.add_format({"num_format": f}) for kind, f in _XLSX_NUMBER_FORMATS.items()
        },
    }
    taken: set[str] = set()
    about = workbook.add_worksheet(_sheet_name(ABOUT_SHEET, taken))
    placed = [(_sheet_name(t.title or t.name, taken), t) for t in tables]
    try:
        for name, table in placed:
            _write_table(workbook.add_worksheet(name), fmt, table)
        _write_about(workbook, about, fmt, title, placed)
    finally:
        workbook.close()
    return output.getvalue()


def _attachment_name(filename: str, extension: str) -> str:
    """``filename`` made safe for a header and a file system: only A-Z, a-z, 0-9,
    ".", "_" and "-" (runs of anything else become one "-"), no leading dots or
    dashes, at most 100 characters before ``extension``, which is added if missing."""
    stem = filename[: -len(extension)] if filename.lower().endswith(extension) else filename
    stem = _FILENAME_UNSAFE.sub("-", stem).lstrip(".-")[:_FILENAME_MAX].rstrip(".-")
    return f"{stem or 'export'}{extension}"


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Children's data: no cache, shared or private, keeps a copy.
    add_never_cache_headers(response)
    return response


def csv_response(table: Table, *, filename: str) -> HttpResponse:
    """A download of ``table_csv(table)``.

    In: the table and a file name (".csv" added if missing; see below). Out: an
    ``HttpResponse`` of type ``text/csv; charset=utf-8`` with
    ``Content-Disposition: attachment; filename="..."``, the name cut down to
    A-Z, a-z, 0-9, ".", "_" and "-", and headers that stop any cache keeping it.
    Refused: what ``table_csv`` refuses.
    """
    return _download(table_csv(table), CSV_CONTENT_TYPE, _attachment_name(filename, ".csv"))


def xlsx_response(tables: list[Table], *, filename: str, title: str) -> HttpResponse:
    """A download of ``tables_xlsx(tables, title=title)``.

    In: the tables, a file name (".xlsx" added if missing, made safe as for
    ``csv_response``) and the workbook's title. Out: an ``HttpResponse`` of the XLSX
    content type, as an attachment, not to be cached. Refused: what ``tables_xlsx``
    refuses.
    """
    return _download(
        tables_xlsx(tables, title=title), XLSX_CONTENT_TYPE, _attachment_name(filename, ".xlsx")
    )
