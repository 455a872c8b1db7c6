"""The shape every dashboard table takes, on the page and in its exports: a title,
columns (each with the definition shown as its footnote) and rows of values.
A value of ``None`` reads "not recorded" on the page and is an empty cell in an
export. The same ``Table`` object is rendered and exported, so the two agree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# How a column's values are written: text, a whole number, a decimal, a share
# (0..1, shown as a percentage; the XLSX holds the fraction, the CSV 0-100), or a date.
KINDS = ("text", "int", "float", "percent", "date")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "int"
    definition: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Unknown column kind {self.kind!r}")


@dataclass
class Table:
    name: str  # a slug: the export's file name and the ``table`` of its audit record
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def values(self, row: dict[str, Any]) -> list[Any]:
        """The row's values in column order."""
        return [row.get(c.key) for c in self.columns]

    @property
    def grid(self) -> list[tuple[dict[str, Any], list[tuple[Column, Any]]]]:
        """Each row with its (column, value) pairs in column order, for templates."""
        return [(row, list(zip(self.columns, self.values(row), strict=True))) for row in self.rows]
