"""The exports as a spreadsheet reads them (issue 12): text never runs as a formula,
numbers stay numbers, an empty cell is "not recorded", shares and dates read right,
the sheets are named as Excel allows, and the download is an attachment."""

import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from xml.etree import ElementTree

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constellation.exports import (
    CSV_CONTENT_TYPE,
    XLSX_CONTENT_TYPE,
    csv_response,
    neutralise,
    table_csv,
    tables_xlsx,
    xlsx_response,
)
from constellation.tables import Column, Table

HYPERLINK = '=HYPERLINK("http://x","y")'
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")

NAME = Column("household", "Household", "text", "The household's name.")
NIGHTS = Column("nights", "Nights provided", "int", "Nights a child slept at the hub.")
AVERAGE = Column("average", "Nights per child", "float", "Nights divided by children.")
SHARE = Column("share", "Acceptance rate", "percent", "Requests accepted of those answered.")
FROM = Column("from", "From", "date", "The first day counted.")


def households(*rows, columns=(NAME, NIGHTS), title="Households", name="households"):
    return Table(name, title, list(columns), [dict(r) for r in rows])


def csv_rows(data: bytes) -> list[list[str]]:
    """The CSV file as a spreadsheet (or csv.reader) splits it into cells."""
    assert data.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte-order mark: Excel garbles accents"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def workbook(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def excel_text(data: bytes, sheet: int, ref: str) -> str | None:
    """The text Excel shows in a string cell, read from the file itself: openpyxl
    leaves control characters as the file's "_xHHHH_" escapes, and undoes the
    escape of a literal "_x005F_", so it cannot tell the two apart. ``sheet`` counts
    from 1 (the About sheet)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        strings = [
            "".join(t.text or "" for t in si.iter(f"{_MAIN}t"))
            # The tests' own files, not untrusted input.
            for si in ElementTree.fromstring(z.read("xl/sharedStrings.xml"))  # noqa: S314
        ]
        cells = ElementTree.fromstring(z.read(f"xl/worksheets/sheet{sheet}.xml"))  # noqa: S314
    for c in cells.iter(f"{_MAIN}c"):
        if c.get("r") == ref:
            assert c.get("t") == "s", f"{ref} is not a string cell"
            raw = strings[int(c.find(f"{_MAIN}v").text)]
            return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m[1], 16)), raw)
    return None


def formula_cells(book) -> list[str]:
    return [
        f"{ws.title}!{cell.coordinate}"
        for ws in book.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


def data_sheet(book, index=0):
    """The index-th table's sheet (the first sheet is "About")."""
    return book.worksheets[index + 1]


# -- neutralise ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [HYPERLINK, "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "\n=1+1", "  =1+1", "\uff1d1+1"],
)
def test_text_a_spreadsheet_would_run_is_prefixed_with_a_quote(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["Ash House", "O'Brien", "a=b", "3", "", "Zoë & Siân"])
def test_ordinary_text_is_left_as_it_is(text):
    assert neutralise(text) == text


def test_neutralise_takes_text_only_numbers_are_never_passed_through_it():
    with pytest.raises(TypeError):
        neutralise(-3)


# -- CSV ------------------------------------------------------------------------------


def test_a_household_named_as_a_hyperlink_formula_is_inert_text_in_the_csv():
    rows = csv_rows(table_csv(households({"household": HYPERLINK, "nights": 4})))
    assert rows[0] == ["Household", "Nights provided"]
    assert rows[1] == ["'" + HYPERLINK, "4"]
    assert rows[1][0].startswith("'=")


@pytest.mark.parametrize("lead", ["+", "-", "@", "\t", "\r"])
def test_each_formula_trigger_is_prefixed_in_the_csv(lead):
    name = f"{lead}cmd|' /C calc'!A0"
    rows = csv_rows(table_csv(households({"household": name, "nights": 1})))
    assert rows[1][0] == "'" + name


def test_negative_numbers_stay_numbers_in_the_csv_and_text_minus_three_is_text():
    data = table_csv(households({"household": "-3", "nights": -3}))
    assert b'"\'-3",-3\r\n' in data or b"'-3,-3\r\n" in data  # the number is unquoted
    assert csv_rows(data)[1] == ["'-3", "-3"]


def test_none_is_an_empty_cell_in_the_csv_whatever_the_kind():
    table = households(
        {"household": None, "nights": None, "average": None, "share": None, "from": None},
        columns=(NAME, NIGHTS, AVERAGE, SHARE, FROM),
    )
    assert csv_rows(table_csv(table))[1] == ["", "", "", "", ""]


def test_csv_shares_are_percentages_to_one_place_and_dates_are_iso():
    table = households(
        {
            "household": "Zoë's",
            "nights": 12,
            "average": 2.5,
            "share": 0.4567,
            "from": date(2027, 1, 31),
        },
        {"household": "Ash", "nights": 0, "average": Decimal("1.50"), "share": 1, "from": None},
        columns=(NAME, NIGHTS, AVERAGE, SHARE, FROM),
    )
    rows = csv_rows(table_csv(table))
    assert rows[0] == [
        "Household",
        "Nights provided",
        "Nights per child",
        "Acceptance rate (%)",
        "From",
    ]
    assert rows[1] == ["Zoë's", "12", "2.5", "45.7", "2027-01-31"]
    assert rows[2] == ["Ash", "0", "1.50", "100.0", ""]


def test_a_moment_in_a_date_column_is_exported_as_its_london_date():
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (summer time).
    table = households({"from": datetime(2027, 6, 30, 23, 30, tzinfo=UTC)}, columns=(FROM,))
    assert csv_rows(table_csv(table))[1] == ["2027-07-01"]
    cell = data_sheet(workbook(tables_xlsx([table], title="t")))["A2"]
    assert cell.is_date
    assert cell.value.date() == date(2027, 7, 1)


@pytest.mark.parametrize(
    ("value", "error"),
    [("12", TypeError), (True, TypeError), (float("nan"), ValueError), (float("inf"), ValueError)],
)
def test_a_figure_that_is_not_a_finite_number_is_refused_not_exported(value, error):
    table = households({"household": "Ash", "nights": value})
    with pytest.raises(error, match="households.nights"):
        table_csv(table)
    with pytest.raises(error, match="households.nights"):
        tables_xlsx([table], title="t")


def test_a_date_column_refuses_text():
    with pytest.raises(TypeError, match="households.from"):
        table_csv(households({"from": "2027-01-31"}, columns=(FROM,)))


# -- XLSX -----------------------------------------------------------------------------


def test_a_household_named_as_a_hyperlink_formula_is_inert_text_in_the_workbook():
    book = workbook(tables_xlsx([households({"household": HYPERLINK, "nights": 4})], title="t"))
    cell = data_sheet(book)["A2"]
    assert cell.data_type == "s"
    assert cell.value.startswith("'=")
    assert cell.value == "'" + HYPERLINK
    assert cell.hyperlink is None
    assert formula_cells(book) == []


@pytest.mark.parametrize("lead", ["+", "-", "@", "\t", "\r"])
def test_each_formula_trigger_is_prefixed_in_the_workbook(lead):
    name = f"{lead}1+1"
    data = tables_xlsx([households({"household": name, "nights": 1})], title="t")
    book = workbook(data)
    assert data_sheet(book)["A2"].data_type == "s"
    assert excel_text(data, 2, "A2") == "'" + name
    assert formula_cells(book) == []


def test_text_looking_like_the_files_own_escapes_reads_as_typed_not_as_a_formula():
    # In the file "_x003D_" stands for "="; unescaped, Excel would show "=1+1" and a
    # CSV saved from the sheet would run it.
    name = "_x003D_HYPERLINK(1)"
    assert excel_text(tables_xlsx([households({"household": name})], title="t"), 2, "A2") == name


def test_urls_and_numeric_text_stay_text_in_the_workbook():
    book = workbook(
        tables_xlsx(
            [households({"household": "http://evil.example/", "nights": 2}, {"household": "42"})],
            title="t",
        )
    )
    sheet = data_sheet(book)
    assert (sheet["A2"].data_type, sheet["A2"].value, sheet["A2"].hyperlink) == (
        "s",
        "http://evil.example/",
        None,
    )
    assert (sheet["A3"].data_type, sheet["A3"].value) == ("s", "42")


def test_negative_numbers_stay_numbers_in_the_workbook_and_text_minus_three_is_text():
    book = workbook(tables_xlsx([households({"household": "-3", "nights": -3})], title="t"))
    sheet = data_sheet(book)
    assert (sheet["B2"].data_type, sheet["B2"].value) == ("n", -3)
    assert (sheet["A2"].data_type, sheet["A2"].value) == ("s", "'-3")


def test_workbook_cells_are_typed_by_kind_and_read_as_on_the_page():
    table = households(
        {
            "household": "Zoë's",
            "nights": 1200,
            "average": 2.5,
            "share": 0.4567,
            "from": date(2027, 1, 31),
        },
        {"household": None, "nights": None, "average": None, "share": None, "from": None},
        columns=(NAME, NIGHTS, AVERAGE, SHARE, FROM),
    )
    sheet = data_sheet(workbook(tables_xlsx([table], title="t")))
    assert [c.value for c in sheet[1]] == [
        "Household",
        "Nights provided",
        "Nights per child",
        "Acceptance rate",
        "From",
    ]
    assert all(c.font.b for c in sheet[1]), "the header row is bold"
    assert sheet.freeze_panes == "A2", "the header stays in view"
    a, n, f, p, d = sheet[2]
    assert (a.data_type, a.value) == ("s", "Zoë's")
    assert (n.data_type, n.value, n.number_format) == ("n", 1200, "#,##0")
    assert (f.data_type, f.value, f.number_format) == ("n", 2.5, "#,##0.0")
    assert (p.data_type, p.value, p.number_format) == ("n", 0.4567, "0.0%")
    assert d.is_date
    assert d.value.date() == date(2027, 1, 31)
    assert d.number_format == "d mmm yyyy"
    assert [c.value for c in sheet[3]] == [None] * 5, "not recorded: empty cells"


def test_columns_are_wide_enough_for_their_values():
    long_name = "The Very Long Household Name of Ashcombe"
    sheet = data_sheet(
        workbook(tables_xlsx([households({"household": long_name, "nights": 1})], title="t"))
    )
    assert sheet.column_dimensions["A"].width >= len(long_name)
    assert sheet.column_dimensions["B"].width >= 8


def test_the_about_sheet_explains_every_column_of_every_table():
    first = households({"household": "Ash", "nights": 1})
    second = households(columns=(SHARE, FROM), title="Rates", name="rates")
    book = workbook(tables_xlsx([first, second], title="Dashboards: Q1 2027"))
    about = book.worksheets[0]
    assert about.title == "About"
    assert about["A1"].value == "Dashboards: Q1 2027"
    pairs = {(r[0].value, r[1].value) for r in about.iter_rows() if r[1].value}
    for column in (NAME, NIGHTS, SHARE, FROM):
        assert (column.label, column.definition) in pairs
    text = " ".join(str(c.value) for row in about.iter_rows() for c in row if c.value)
    assert "empty cell means the figure was not recorded" in text
    assert "\u201cRates\u201d" in text
    assert book.properties.title == "Dashboards: Q1 2027"


def test_a_definition_that_looks_like_a_formula_is_inert_on_the_about_sheet():
    column = Column("x", "@label", "int", "=1+1")
    book = workbook(tables_xlsx([households(columns=(column,))], title="=title"))
    values = {c.value for row in book.worksheets[0].iter_rows() for c in row if c.value}
    assert {"'@label", "'=1+1", "'=title"} <= values
    assert data_sheet(book)["A1"].value == "'@label"
    assert formula_cells(book) == []


def test_sheet_names_are_ones_excel_accepts_unique_and_readable():
    titles = [
        "Households: a/b [x] *?\\ 2027",
        "A title far longer than the thirty-one characters Excel allows",
        "A title far longer than the thirty-one characters Excel allows, again",
        "Households",
        "HOUSEHOLDS",
        "About",
        "History",
        "'quoted'",
    ]
    tables = [households(title=t, name=f"t{i}") for i, t in enumerate(titles)]
    names = workbook(tables_xlsx(tables, title="t")).sheetnames
    assert names[0] == "About"
    assert len(names) == len(titles) + 1
    for name in names:
        assert 0 < len(name) <= 31
        assert not set(name) & set("[]:*?/\\")
        assert name[:1] != "'"
        assert name[-1:] != "'"
    assert len({n.lower() for n in names}) == len(names), "unique, ignoring case as Excel does"
    assert "history" not in {n.lower() for n in names}
    assert names[1] == "Households - a-b (x) - 2027"
    assert names[2] == "A title far longer than the thi"
    assert names[3] == "A title far longer than the (2)"
    assert names[4:9] == ["Households", "HOUSEHOLDS (2)", "About (2)", "History (2)", "quoted"]


def test_a_workbook_needs_a_table():
    with pytest.raises(ValueError, match="at least one table"):
        tables_xlsx([], title="t")


# -- downloads ------------------------------------------------------------------------


def test_csv_download_is_an_attachment_with_a_safe_name_and_not_cached():
    table = households({"household": "Ash", "nights": 1})
    response = csv_response(table, filename='evaluation return 2027/Q1;"x\r\nSet-Cookie: a')
    assert response["Content-Type"] == CSV_CONTENT_TYPE == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="evaluation-return-2027-Q1-x-Set-Cookie-a.csv"'
    )
    assert "no-store" in response["Cache-Control"]
    assert response.content == table_csv(table)


@pytest.mark.parametrize(
    ("asked", "given"),
    [("months.xlsx", "months.xlsx"), ("../../etc/passwd", "etc-passwd.xlsx"), ("", "export.xlsx")],
)
def test_xlsx_download_is_an_attachment_with_a_safe_name_and_not_cached(asked, given):
    table = households({"household": "Ash", "nights": 1})
    response = xlsx_response([table], filename=asked, title="Months")
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert response["Content-Disposition"] == f'attachment; filename="{given}"'
    assert "no-store" in response["Cache-Control"]
    book = workbook(response.content)
    assert data_sheet(book)["A2"].value == "Ash"


# -- whatever a household is called ---------------------------------------------------


def _starts_safe(cell: str) -> bool:
    return not (cell[:1] in TRIGGERS or cell.lstrip()[:1] in TRIGGERS)


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text())
def test_any_name_reads_back_from_the_csv_as_typed_and_never_as_a_formula(name):
    cell = csv_rows(table_csv(households({"household": name, "nights": -1})))[1]
    assert cell[1] == "-1"
    assert _starts_safe(cell[0]) or cell[0].startswith("'")
    assert cell[0] in (name, "'" + name), "nothing but the prefix is added or lost"


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(), title=st.text())
def test_any_name_or_title_never_makes_a_formula_cell_in_the_workbook(name, title):
    table = households({"household": name, "nights": -1}, title=title)
    data = tables_xlsx([table], title=title)
    book = workbook(data)
    assert formula_cells(book) == []
    sheet = data_sheet(book)
    assert (sheet["B2"].data_type, sheet["B2"].value) == ("n", -1)
    if name:
        assert sheet["A2"].data_type == "s"
        value = excel_text(data, 2, "A2")
        assert _starts_safe(value) or value.startswith("'")
        assert value in (name, "'" + name)
