"""The dashboards' chart partial (issue 12): a canvas drawn from json_script data, and
the same figures as an accessible table, with whatever text it is given escaped."""

import json
import re
from html.parser import HTMLParser

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from constellation.dashboards import _with_table

PAYLOAD = "</script><script>alert(1)</script><b>"


def _chart(**overrides):
    chart = {
        "id": "nights-by-month",
        "title": f"Nights {PAYLOAD}",
        "type": "stacked-bar",
        "unit": "nights",
        "labels": ["Jan 2026", "Feb 2026", f"Mar {PAYLOAD}"],
        "series": [
            {"label": "Planned overnight stay", "values": [1, 2, None]},
            {"label": f"Crisis {PAYLOAD}", "values": [0, None, 3]},
        ],
        "definition": "Nights a child slept at the hub home.",
    }
    chart.update(overrides)
    return _with_table(chart)


class _Parsed(HTMLParser):
    """The parts of the partial the tests look at: canvases, JSON scripts, table rows."""

    def __init__(self):
        super().__init__()
        self.canvases, self.scripts, self.rows = [], {}, []
        self._script_id = None
        self._in_tbody = False
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "canvas":
            self.canvases.append(a)
        elif tag == "script" and a.get("type") == "application/json":
            self._script_id = a["id"]
            self.scripts[self._script_id] = ""
        elif tag == "tbody":
            self._in_tbody = True
        elif tag == "tr" and self._in_tbody:
            self._row = []
        elif tag in ("th", "td") and self._row is not None:
            self._cell = {"tag": tag, "scope": a.get("scope"), "text": ""}

    def handle_endtag(self, tag):
        if tag == "script":
            self._script_id = None
        elif tag == "tbody":
            self._in_tbody = False
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag in ("th", "td") and self._cell is not None:
            self._cell["text"] = self._cell["text"].strip()
            self._row.append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._script_id is not None:
            self.scripts[self._script_id] += data
        if self._cell is not None:
            self._cell["text"] += data


def _render(chart):
    html = render_to_string("constellation/dashboards/_chart.html", {"chart": chart})
    parsed = _Parsed()
    parsed.feed(html)
    return html, parsed


def test_canvas_names_its_json_script():
    html, parsed = _render(_chart())
    assert len(parsed.canvases) == 1
    canvas = parsed.canvases[0]
    assert canvas["data-chart"] == "nights-by-month-data"
    assert canvas["role"] == "img"
    assert canvas["aria-label"].startswith(f"Nights {PAYLOAD}:")
    assert "table below" in canvas["aria-label"]
    data = json.loads(parsed.scripts["nights-by-month-data"])
    assert data["type"] == "stacked-bar"
    assert data["unit"] == "nights"
    assert data["labels"][:2] == ["Jan 2026", "Feb 2026"]
    assert data["series"][0] == {"label": "Planned overnight stay", "values": [1, 2, None]}
    assert "<figure" in html
    assert "<figcaption" in html
    assert "Nights a child slept at the hub home." in html


def test_markup_in_titles_and_labels_is_escaped_everywhere():
    html, parsed = _render(_chart())
    # Exactly one script element (the JSON); the payload opened none.
    assert html.count("<script") == 1
    assert "<b>" not in html
    assert "alert(1)</script>" not in html
    # In the JSON: json_script escapes <, > and &, and the text survives a round trip.
    raw = parsed.scripts["nights-by-month-data"]
    assert "<" not in raw
    assert ">" not in raw
    assert "\\u003C/script\\u003E" in raw
    data = json.loads(raw)
    assert data["series"][1]["label"] == f"Crisis {PAYLOAD}"
    assert data["labels"][2] == f"Mar {PAYLOAD}"
    # In the title, the caption and the table: HTML-escaped text.
    escaped = "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;"
    assert f"Nights {escaped}" in html  # figcaption, caption, aria-label
    assert f"Crisis {escaped}" in html  # the table's column header
    assert f"Mar {escaped}" in html  # the table's row header


def test_table_has_a_row_per_label_and_a_dash_for_null():
    html, parsed = _render(_chart())
    assert "<details" in html
    assert "Figures as a table" in html
    assert re.search(r'<table class="table table-sm[^"]*"', html)
    assert "<caption>" in html
    assert len(parsed.rows) == 3
    for row, label in zip(parsed.rows, ["Jan 2026", "Feb 2026", f"Mar {PAYLOAD}"], strict=True):
        header, *cells = row
        assert (header["tag"], header["scope"], header["text"]) == ("th", "row", label)
        assert len(cells) == 2
    assert [c["text"] for c in parsed.rows[0][1:]] == ["1", "0"]
    assert [c["text"] for c in parsed.rows[1][1:]] == ["2", "—"]
    assert [c["text"] for c in parsed.rows[2][1:]] == ["—", "3"]
    assert html.count('scope="col"') == 3  # the label column and one per series


def test_two_charts_on_a_page_have_distinct_ids():
    a, pa = _render(_chart(id="requests-by-month", type="bar", unit=""))
    b, pb = _render(_chart(id="crisis-response", type="line", unit="minutes"))
    assert list(pa.scripts) == ["requests-by-month-data"]
    assert list(pb.scripts) == ["crisis-response-data"]
    assert json.loads(pb.scripts["crisis-response-data"])["type"] == "line"


def test_scripts_partial_loads_the_library_then_the_drawing_code():
    html = render_to_string("constellation/dashboards/_chart_scripts.html")
    srcs = re.findall(r'<script src="([^"]+)" defer></script>', html)
    assert len(srcs) == 2
    assert "/vendor/chartjs/chart.umd" in srcs[0]
    assert srcs[1].endswith("constellation/charts.js")


def test_static_files_are_found():
    assert finders.find("vendor/chartjs/chart.umd.js")
    assert finders.find("vendor/chartjs/chart.umd.min.js")
    assert finders.find("constellation/charts.js")
