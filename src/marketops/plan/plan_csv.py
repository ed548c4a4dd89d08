"""Reading the small CSV files people keep their plans in (tasks, budget lines), and naming bad rows.

Spreadsheets save CSV in UTF-8 (with or without a BOM) or, on Windows, cp1252; with commas,
semicolons (where the comma is the decimal mark) or tabs. Headers are matched ignoring case,
spaces and hyphens, through a table of the names people write ("Due date" -> ``due``). Rows are
numbered as a spreadsheet numbers them (the header is row 1), so a message points at the cell.

Example:
    >>> header, rows = read_csv(b"Title;Due date\\nBrief;2026-03-01\\n;\\n", "plan.csv",
    ...                         columns=("title", "due"), required=("title",), aliases={"due_date": "due"})
    >>> header, rows
    (['title', 'due'], [(2, {'title': 'Brief', 'due': '2026-03-01'})])
    >>> str(RowError("plan.csv", 3, "due", "expected a date like 2026-05-31, got '31/03'"))
    "plan.csv, row 3, column 'due': expected a date like 2026-05-31, got '31/03'"
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from marketops.errors import Location, SourceError

#: A plan file is small; a bigger one is almost certainly the wrong file.
MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class RowError:
    """One problem of one row: where (file, spreadsheet row, column) and what was expected."""

    file: str
    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        return f"{Location(file=self.file, row=self.row, column=self.column)}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "column": self.column, "message": self.message,
                "text": str(self)}


def decode(data: bytes, file: str, max_bytes: int = MAX_BYTES) -> str:
    """The file's text: UTF-8 (BOM or not), else cp1252; SourceError when it is too big or not text."""
    if len(data) > max_bytes:
        raise SourceError(f"the file is larger than {max_bytes // (1024 * 1024)} MB; split it", file=file)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise SourceError("the file is not text (save it as CSV, UTF-8)", file=file) from None


def header_key(name: str, aliases: Mapping[str, str | None] = {}) -> str | None:
    """``name`` as a column key: lowercase, words joined by ``_``, then through ``aliases``."""
    key = "_".join((name or "").strip().lower().replace("-", " ").split())
    return aliases.get(key, key)


def read_csv(data: bytes | str, file: str, *, columns: Sequence[str], required: Sequence[str],
             aliases: Mapping[str, str | None] = {}, example: str = "",
             max_bytes: int = MAX_BYTES) -> tuple[list[str | None], list[tuple[int, dict[str, str]]]]:
    """The file's column keys and its non-blank rows (spreadsheet row number, {column: trimmed cell}).

    Only ``columns`` are kept; a missing ``required`` column is a SourceError on row 1 that lists the
    columns expected (and ``example``, a header line to copy).
    """
    text = data if isinstance(data, str) else decode(data, file, max_bytes)
    first = text.split("\n", 1)[0]
    if not first.strip():
        raise SourceError(f"the file is empty; the first row must name the columns ({', '.join(columns)})",
                          file=file)
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [header_key(h, aliases) for h in next(reader)]
    missing = [c for c in required if c not in header]
    if missing:
        raise SourceError(f"the header lacks {', '.join(repr(m) for m in missing)}; the columns are "
                          f"{', '.join(columns)} ({', '.join(required)} required)"
                          + (f", e.g. {example}" if example else ""), file=file, row=1)
    rows = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue  # a blank line is no row
        rows.append((number, {h: (cells[i].strip() if i < len(cells) else "")
                              for i, h in enumerate(header) if h in columns}))
    return header, rows
