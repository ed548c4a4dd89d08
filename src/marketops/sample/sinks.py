"""Append-only file writers for the exports: encodings, delimiters, BOMs and preambles as vendors write them.

A sink is opened once, written to chunk by chunk (a polars DataFrame at a time) and closed,
so a file of ten million rows never exists in memory.

Example:
    >>> import tempfile, polars as pl
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "x.csv"
    >>> with TextSink(path, ["a", "b"], delimiter=";", encoding="cp1252") as sink:
    ...     sink.write(pl.DataFrame({"a": ["è"], "b": ["1,5"]}))
    >>> path.read_bytes()
    b'a;b\\r\\n\\xe8;1,5\\r\\n'
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

BOMS = {"utf-8-sig": b"\xef\xbb\xbf", "utf-16": b"\xff\xfe"}

#: Rows formatted per step when text has to be re-encoded (cp1252, utf-16): bounds the text held at once.
BATCH = 16_384


class TextSink:
    """A delimited text export. ``encoding`` may be "utf-8", "utf-8-sig" (BOM), "cp1252" or "utf-16" (LE + BOM)."""

    def __init__(self, path: Path, header: list[str], *, encoding: str = "utf-8", delimiter: str = ",",
                 quote_all: bool = False, preamble: tuple[str, ...] = (), line_end: str = "\r\n") -> None:
        self.path = Path(path)
        self.delimiter = delimiter
        self.quote_all = quote_all
        self.line_end = line_end
        self.codec = {"utf-8-sig": "utf-8", "utf-16": "utf-16-le"}.get(encoding, encoding)
        self.rows = 0
        self._file = open(self.path, "wb")
        self._file.write(BOMS.get(encoding, b""))
        self.lines(list(preamble) + [self._row(header)])

    def _row(self, cells: list[str]) -> str:
        def quote(c: str) -> str:
            if self.quote_all or any(ch in c for ch in (self.delimiter, '"', "\n")):
                return '"' + c.replace('"', '""') + '"'
            return c
        return self.delimiter.join(quote(c) for c in cells)

    def lines(self, lines: list[str]) -> None:
        """Raw lines (titles, totals, footers): not counted as data rows."""
        if lines:
            self._file.write("".join(line + self.line_end for line in lines).encode(self.codec, errors="replace"))

    def write(self, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        # an empty cell is written empty, as vendors do, not as a quoted ""
        frame = frame.with_columns(pl.col(pl.String).replace("", None))
        options = {"include_header": False, "separator": self.delimiter, "null_value": "",
                   "quote_style": "always" if self.quote_all else "necessary", "line_terminator": self.line_end}
        if self.codec == "utf-8":
            # polars streams UTF-8 straight into the file: no whole-chunk str and bytes copies
            self._file.flush()
            frame.write_csv(self._file, **options)
        else:
            for offset in range(0, frame.height, BATCH):
                text = frame.slice(offset, BATCH).write_csv(**options)
                self._file.write(text.encode(self.codec, errors="replace"))
        self.rows += frame.height

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> TextSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class JsonLinesSink:
    """Newline-delimited JSON, one event per line, keys in the frame's column order."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.rows = 0
        self._file = open(self.path, "wb")

    def write(self, frame: pl.DataFrame) -> None:
        if frame.height:
            self._file.flush()
            frame.write_ndjson(self._file)  # streamed into the file, never one str of the whole chunk
            self.rows += frame.height

    def close(self) -> None:
        self._file.close()
