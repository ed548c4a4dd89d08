"""Readers: any export file -> a DuckDB table of raw text cells with spreadsheet row numbers.

Whatever the format (CSV/TSV in any delimiter and encoding, XLSX, Parquet, JSON, JSONL), a reader
produces a :class:`RawSheet`: the header as written, a temporary DuckDB table whose columns
``c0..cN`` hold each cell as text plus ``_row`` (the row number a spreadsheet would show, header =
row 1 after any preamble lines), and the rows it could not split into cells (:class:`Reject`).
Parsing into types happens later, on the whole column at once (:mod:`marketops.ingest.values`).

Example:
    >>> import duckdb, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "leads.csv"
    >>> _ = p.write_text("Email;Nome\\na@x.it;Anna\\n", encoding="cp1252")
    >>> [s.headers for s in read_file(p, duckdb.connect(), tmp_dir=p.parent)]
    [['Email', 'Nome']]
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import sqlglot.expressions as exp
from charset_normalizer import from_bytes

from marketops.errors import SourceError

SAMPLE_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
#: Lines before the header that vendors add (report titles, date ranges, '#' comments).
MAX_PREAMBLE = 30
#: A cell larger than this is a broken file, not data; the row goes to quarantine.
MAX_LINE_BYTES = 8 * 1024 * 1024
FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xlsx",
           ".parquet": "parquet", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass(frozen=True)
class Reject:
    """A row the reader could not split into the header's cells."""

    row: int
    column: str | None
    reason: str
    raw: str


@dataclass
class RawSheet:
    """One table of raw text read from a file (a CSV, or one sheet of a workbook)."""

    file: Path
    sheet: str | None
    headers: list[str]
    relation: str
    rows_read: int
    rejects: list[Reject] = field(default_factory=list)
    encoding: str = "utf-8"
    delimiter: str | None = None

    @property
    def rows_in(self) -> int:
        """Every data row the file has: the ones read plus the ones rejected."""
        return self.rows_read + len(self.rejects)

    @property
    def label(self) -> str:
        return f"{self.file.name}[{self.sheet}]" if self.sheet else self.file.name


def file_format(path: Path) -> str:
    """The reader a file needs, from its first bytes (a workbook named .csv still opens) and name."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"PAR1"):
        return "parquet"
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise SourceError(f"unsupported file type '{path.suffix}'", file=str(path),
                          hint="use CSV, TSV, XLSX, Parquet, JSON or JSONL")
    return fmt


def read_file(path: Path, con: duckdb.DuckDBPyConnection, *, tmp_dir: Path,
              sheet: str | None = None) -> list[RawSheet]:
    """Read ``path`` into raw text tables on ``con``; one per sheet that has data."""
    path = Path(path)
    if not path.exists():
        raise SourceError("file not found", file=str(path))
    if path.stat().st_size == 0:
        raise SourceError("the file is empty (0 bytes)", file=str(path))
    fmt = file_format(path)
    if fmt == "csv":
        return [_read_csv(path, con, tmp_dir)]
    if fmt == "xlsx":
        return _read_xlsx(path, con, sheet)
    if fmt == "jsonl":
        return [_read_jsonl(path, con, tmp_dir)]
    if fmt == "json":
        return [_read_json(path, con)]
    return [_read_parquet(path, con)]


# -- text files ----------------------------------------------------------------------------------
def detect_encoding(sample: bytes, path: Path) -> str:
    """The text encoding of a file from its first bytes: BOMs first, then UTF-8, then a guess."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        # UTF-16 without a BOM shows a NUL in every other byte of ASCII text.
        zeros_odd = sample[1::2].count(0) / max(1, len(sample) // 2)
        zeros_even = sample[0::2].count(0) / max(1, len(sample) // 2)
        if zeros_odd > 0.3 and zeros_even < 0.05:
            return "utf-16-le"
        if zeros_even > 0.3 and zeros_odd < 0.05:
            return "utf-16-be"
        raise SourceError("this is not a text file (it contains binary data)", file=str(path),
                          hint="export the data as CSV, XLSX, Parquet or JSON")
    try:
        # A multi-byte character may be cut at the end of the sample.
        sample.decode("utf-8") if len(sample) < SAMPLE_BYTES else sample[:-4].decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(sample, cp_isolation=["cp1252", "latin_1", "cp1251", "koi8_r", "iso8859_15"]).best()
    if best is None:
        raise SourceError("cannot tell the text encoding of this file", file=str(path),
                          hint="save it as UTF-8 CSV")
    # Windows-1252 is a superset of Latin-1 for printable text and is what Excel writes.
    return "cp1252" if best.encoding in ("latin_1", "iso8859_15") else best.encoding


def sniff_layout(text: str) -> tuple[str, int]:
    """(delimiter, header line index) of a text sample.

    The delimiter is the one that splits most lines into the same number (>1) of cells; the
    header is the first line with at least half that many cells, mostly filled, skipping
    vendors' one-cell title lines and '#' comments.

    Example:
        >>> sniff_layout("Campaign report\\nAll time\\nCampaign,Clicks\\nA,1\\nB,2\\n")
        (',', 2)
    """
    lines = text.splitlines()[:MAX_PREAMBLE + 50]
    best: tuple[float, str, int] | None = None
    for delim in DELIMITERS:
        counts = [len(r) for r in csv.reader(io.StringIO("\n".join(lines)), delimiter=delim)]
        counts = [c for c in counts if c > 1]
        if not counts:
            continue
        width, freq = Counter(counts).most_common(1)[0]
        score = freq * (1 + min(width, 30) / 100)
        if best is None or score > best[0]:
            best = (score, delim, width)
    if best is None:
        return ",", 0  # a one-column file
    _, delim, width = best
    for i, row in enumerate(csv.reader(io.StringIO("\n".join(lines)), delimiter=delim)):
        if row and row[0].startswith("#"):
            continue
        # Title lines hold one cell; the header names at least half the columns the data has
        # (data rows may carry extra trailing cells the header lacks).
        filled = sum(1 for c in row if c.strip())
        if len(row) >= max(2, (width + 1) // 2) and filled >= max(2, len(row) // 2):
            return delim, i
    return delim, 0


def _transcode(path: Path, encoding: str, tmp_dir: Path) -> Path:
    """A UTF-8 copy of a file in another encoding, streamed so large files stay cheap."""
    out = tmp_dir / f"{path.stem}.{uuid.uuid4().hex[:8]}.utf8.csv"
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with open(path, "rb") as src, open(out, "w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(4 * 1024 * 1024):
            dst.write(decoder.decode(chunk))
        dst.write(decoder.decode(b"", final=True))
    return out


def _read_csv(path: Path, con: duckdb.DuckDBPyConnection, tmp_dir: Path) -> RawSheet:
    with open(path, "rb") as f:
        sample = f.read(SAMPLE_BYTES)
    encoding = detect_encoding(sample, path)
    text = sample.decode(encoding, errors="replace")
    if len(sample) == SAMPLE_BYTES:
        text = text.rsplit("\n", 1)[0]  # drop the partial last line
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise SourceError("the file has no text (only blank lines)", file=str(path))
    delim, header_idx = sniff_layout(text)
    header_line = next(itertools.islice(csv.reader(io.StringIO(text), delimiter=delim), header_idx, None))
    headers = _clean_headers(header_line, path)
    source = path
    if encoding not in ("utf-8", "utf-8-sig"):
        tmp_dir.mkdir(parents=True, exist_ok=True)
        source = _transcode(path, encoding, tmp_dir)
    # Physical lines before the first data row: preamble + header (a quoted header cell with a
    # line break is vanishingly rare in exports, so lines == rows here).
    skip = len("\n".join(text.splitlines()[:header_idx + 1]).splitlines())
    relation = _relation_name()
    columns = {f"c{i}": "VARCHAR" for i in range(len(headers))}
    rejects_table, scan_table = f"{relation}_rejects", f"{relation}_scans"
    try:
        # Row numbers are taken in the same scan (DuckDB keeps file order); rejected lines shift
        # them afterwards, which only costs anything when there are rejects.
        con.execute(
            f"""CREATE TEMP TABLE {relation} AS SELECT *, (row_number() OVER () + ?)::BIGINT AS _row
                FROM read_csv(?, header=false, skip=?,
                delim=?, quote='"', escape='"', columns=?, ignore_errors=true, null_padding=false,
                store_rejects=true, rejects_table='{rejects_table}', rejects_scan='{scan_table}',
                max_line_size={MAX_LINE_BYTES}, strict_mode=true, auto_detect=false, parallel=true)""",
            [skip, str(source), skip, delim, columns])
        reject_rows = con.execute(
            f"SELECT line, column_name, error_type, error_message, csv_line FROM {rejects_table} ORDER BY line"
        ).fetchall()
    except duckdb.Error as e:
        raise SourceError(f"cannot read this file as {_delim_name(delim)}-separated text: {_first_line(e)}",
                          file=str(path)) from None
    finally:
        if source != path:
            source.unlink(missing_ok=True)
    if reject_rows:
        # The k-th accepted row sits after the header, shifted by the rejected lines before it:
        # reject j (in line order) has t = line - skip - j accepted rows before it.
        con.execute(f"CREATE TEMP TABLE {relation}_gaps AS SELECT t, max(j) AS j FROM (SELECT "
                    f"line - ? - row_number() OVER (ORDER BY line) AS t, row_number() OVER (ORDER BY line) AS j "
                    f"FROM {rejects_table}) GROUP BY t", [skip])
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {relation} AS
            SELECT r.* REPLACE ((r._row + coalesce(g.j, 0))::BIGINT AS _row)
            FROM {relation} r ASOF LEFT JOIN {relation}_gaps g ON r._row - {int(skip)} > g.t""")
    rows_read = con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]
    for t in (f"{relation}_gaps", rejects_table, scan_table):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    rejects = _collapse_rejects(reject_rows, headers, delim)
    return RawSheet(path, None, headers, relation, rows_read, rejects, encoding, delim)


def _collapse_rejects(rows: list[tuple], headers: list[str], delim: str) -> list[Reject]:
    """One reject per row: DuckDB reports a cut-short row once per missing cell."""
    out: dict[int, Reject] = {}
    for line, col, kind, msg, raw in rows:
        if int(line) in out:
            continue
        raw = raw or ""
        column = _reject_column(headers, col)
        if kind in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
            try:
                found = len(next(csv.reader(io.StringIO(raw.rstrip("\r\n")), delimiter=delim), []))
            except csv.Error:  # the line itself is malformed; the count is then DuckDB's
                found = None
            msg = f"Found: {found if found is not None else '?'}"
            column = (headers[found] if kind == "MISSING COLUMNS" and found is not None and found < len(headers)
                      else None)
        out[int(line)] = Reject(int(line), column, _reject_reason(kind, msg, len(headers)), raw[:2000])
    return list(out.values())


def _reject_column(headers: list[str], duck_name: str | None) -> str | None:
    if duck_name and duck_name.startswith("c") and duck_name[1:].isdigit():
        i = int(duck_name[1:])
        return headers[i] if i < len(headers) else None
    return None


def _reject_reason(kind: str, message: str, width: int) -> str:
    found = message.rsplit(":", 1)[-1].strip() if "Found" in message else "?"
    return {
        "MISSING COLUMNS": f"row is cut short: expected {width} cells, found {found}",
        "TOO MANY COLUMNS": f"row has extra cells: expected {width}, found {found}",
        "UNQUOTED VALUE": "a quote is not closed or a cell mixes quoted and unquoted text",
        "LINE SIZE OVER MAXIMUM": f"row is larger than {MAX_LINE_BYTES // (1024 * 1024)} MB",
        "INVALID UNICODE": "row has characters that are not valid text in the file's encoding",
    }.get(kind, message.split("\n")[0])


def _delim_name(d: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}[d]


def _first_line(e: Exception) -> str:
    return str(e).split("\n")[0]


def _clean_headers(raw: list, path: Path, sheet: str | None = None) -> list[str]:
    """Header cells as text; blank ones get a name so no column of data is dropped."""
    headers = [("" if h is None else str(h)).strip().lstrip("\ufeff") for h in raw]
    while headers and not headers[-1]:
        headers.pop()  # trailing empty cells are spreadsheet padding
    if not headers:
        raise SourceError("no header row found", file=str(path) + (f"[{sheet}]" if sheet else ""),
                          hint="the first row must name the columns")
    headers = [h or f"column {i + 1}" for i, h in enumerate(headers)]
    # A repeated header would make two columns indistinguishable; number the repeats like a
    # spreadsheet user would ("Email", "Email (2)") so both cells are kept.
    seen: Counter[str] = Counter()
    unique = []
    for h in headers:
        seen[h] += 1
        unique.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    return unique


def _relation_name() -> str:
    # Random, not derived from the file name: the name goes into SQL and must be a safe identifier.
    return f"__raw_{uuid.uuid4().hex[:12]}"


# -- workbooks -----------------------------------------------------------------------------------
def _cell_text(v) -> str | None:
    """A workbook cell as the text a CSV export of it would hold (ISO dates, no '.0' on integers)."""
    if v is None or v == "":
        return None
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if hasattr(v, "isoformat"):
        return v.isoformat(sep=" ") if hasattr(v, "hour") else v.isoformat()
    return str(v)


def _read_xlsx(path: Path, con: duckdb.DuckDBPyConnection, only: str | None) -> list[RawSheet]:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as e:  # calamine raises its own error types for broken archives
        raise SourceError(f"cannot open this workbook: {_first_line(e)}", file=str(path)) from None
    names = wb.sheet_names
    if only is not None and only not in names:
        raise SourceError(f"no sheet named '{only}'; sheets: {', '.join(names)}", file=str(path))
    sheets = []
    for name in [only] if only else names:
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        rows = [[_cell_text(v) for v in r] for r in rows]
        if not any(any(c is not None for c in r) for r in rows):
            continue  # an empty sheet is not data
        text = "\n".join(",".join(json.dumps(c or "") for c in r) for r in rows[:MAX_PREAMBLE + 50])
        _, header_idx = sniff_layout(text)
        headers = _clean_headers(rows[header_idx], path, name)
        width = len(headers)
        data = rows[header_idx + 1:]
        cols = {f"c{i}": [r[i] if i < len(r) else None for r in data] for i in range(width)}
        cols["_row"] = list(range(header_idx + 2, header_idx + 2 + len(data)))
        batch = pa.table({k: pa.array(v, type=pa.int64() if k == "_row" else pa.string()) for k, v in cols.items()})
        relation = _relation_name()
        con.register(f"{relation}_arrow", batch)
        # Blank lines inside a sheet are layout, not rows of data.
        nonblank = " OR ".join(f"c{i} IS NOT NULL" for i in range(width))
        con.execute(f"CREATE TEMP TABLE {relation} AS SELECT * FROM {relation}_arrow WHERE {nonblank}")
        con.unregister(f"{relation}_arrow")
        extra = [Reject(header_idx + 2 + i, None, f"row has extra cells beyond the {width} named columns",
                        ",".join(c or "" for c in r)[:2000])
                 for i, r in enumerate(data) if any(c is not None for c in r[width:])]
        n = con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]
        if extra:
            rows_bad = tuple(r.row for r in extra)
            con.execute(f"DELETE FROM {relation} WHERE _row IN (SELECT unnest(?))", [list(rows_bad)])
            n -= len(extra)
        sheets.append(RawSheet(path, name if len(names) > 1 or only else None, headers, relation, n, extra))
    if not sheets:
        raise SourceError("the workbook has no data in any sheet", file=str(path))
    return sheets


# -- JSON and Parquet ----------------------------------------------------------------------------
def _as_text_table(con: duckdb.DuckDBPyConnection, path: Path, source_sql: str, params: list,
                   row_offset: int) -> RawSheet:
    """Columns of a typed source -> c0..cN text (nested values as JSON), numbered rows."""
    cols = [d[0] for d in con.execute(f"SELECT * FROM {source_sql} LIMIT 0", params).description]
    if not cols:
        raise SourceError("no columns found", file=str(path))
    relation = _relation_name()
    casts = ", ".join(
        f"CAST({q} AS VARCHAR) AS c{i}" for i, q in enumerate(exp.to_identifier(c, quoted=True).sql("duckdb") for c in cols))
    con.execute(f"CREATE TEMP TABLE {relation} AS SELECT {casts}, "
                f"(row_number() OVER () + {int(row_offset)})::BIGINT AS _row FROM {source_sql}", params)
    n = con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]
    return RawSheet(path, None, cols, relation, n)


def _read_parquet(path: Path, con: duckdb.DuckDBPyConnection) -> RawSheet:
    try:
        return _as_text_table(con, path, "read_parquet(?)", [str(path)], 0)
    except duckdb.Error as e:
        raise SourceError(f"cannot read this Parquet file: {_first_line(e)}", file=str(path)) from None


def _read_json(path: Path, con: duckdb.DuckDBPyConnection) -> RawSheet:
    try:
        return _as_text_table(con, path, "read_json(?, format='array', sample_size=-1)", [str(path)], 0)
    except duckdb.Error as e:
        raise SourceError(f"not a JSON array of records: {_first_line(e)}", file=str(path),
                          hint="a .json file must hold [ {...}, {...} ]; use .jsonl for one record per line") from None


def _read_jsonl(path: Path, con: duckdb.DuckDBPyConnection, tmp_dir: Path) -> RawSheet:
    """One JSON object per line; a line that is not one goes to quarantine, the rest load.

    Two streaming passes over the file, never the whole text in memory: the first finds every
    key of every object (objects of one export share a handful of key lists) and any broken
    line, the second fills a column per key, nested values as JSON text.
    """
    relation = _relation_name()
    quoted_path = exp.Literal.string(str(path)).sql("duckdb")
    scan = (f"read_json_objects({quoted_path}, format='newline_delimited', "
            f"ignore_errors=true, maximum_object_size={MAX_LINE_BYTES})")
    is_object = "json IS NOT NULL AND json_type(json) = 'OBJECT'"
    try:
        shapes = con.execute(f"SELECT CASE WHEN {is_object} THEN json_keys(json) END AS ks, count(*) "
                             f"FROM {scan} GROUP BY ks").fetchall()
    except duckdb.Error as e:
        raise SourceError(f"cannot read this file as JSON lines: {_first_line(e)}", file=str(path)) from None
    if not any(ks for ks, _ in shapes):
        raise SourceError("no JSON objects with fields found", file=str(path))
    # Columns in the order of the first object, then keys that appear later, alphabetically.
    keys = list(dict.fromkeys([*_first_object_keys(path), *sorted(k for ks, _ in shapes if ks for k in ks)]))
    if all(ks is not None for ks, _ in shapes):
        # Every line is an object: DuckDB's own reader fills the columns (nested values as JSON
        # text), and row numbers are line numbers.
        columns = "{" + ", ".join(f"{exp.Literal.string(k).sql('duckdb')}: 'VARCHAR'" for k in keys) + "}"
        cells = ", ".join(f"{exp.to_identifier(k, quoted=True).sql('duckdb')} AS c{i}" for i, k in enumerate(keys))
        con.execute(f"""CREATE TEMP TABLE {relation} AS SELECT {cells}, row_number() OVER ()::BIGINT AS _row
            FROM read_json({quoted_path}, format='newline_delimited', columns={columns},
                           maximum_object_size={MAX_LINE_BYTES})""").fetchall()
        n = con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]
        return RawSheet(path, None, keys, relation, n)
    # Some lines are broken: pull each key out of the objects DuckDB could read, keeping the
    # broken lines' places so that row numbers stay exact.
    paths = "[" + ", ".join(exp.Literal.string("$." + json.dumps(k)).sql("duckdb") for k in keys) + "]"
    cells = ", ".join(f"l[{i + 1}] AS c{i}" for i in range(len(keys)))
    con.execute(f"""CREATE TEMP TABLE {relation} AS SELECT {cells}, _row, _bad FROM (
        SELECT CASE WHEN {is_object} THEN json_extract_string(json, {paths}) END AS l,
               NOT coalesce({is_object}, false) AS _bad, row_number() OVER ()::BIGINT AS _row FROM {scan})""").fetchall()
    bad_rows = [r for (r,) in con.execute(f"SELECT _row FROM {relation} WHERE _bad ORDER BY _row").fetchall()]
    con.execute(f"DELETE FROM {relation} WHERE _bad").fetchall()
    con.execute(f"ALTER TABLE {relation} DROP COLUMN _bad").fetchall()
    n = con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]
    return RawSheet(path, None, keys, relation, n, _jsonl_rejects(path, bad_rows))


def _first_object_keys(path: Path) -> list[str]:
    with open(path, "rb") as f:
        for line in f:
            try:
                first = json.loads(line)
            except ValueError:
                continue
            if isinstance(first, dict):
                return list(first)
    return []


def _jsonl_rejects(path: Path, rows: list[int]) -> list[Reject]:
    """The text of the bad lines, for the quarantine (read only when there are any)."""
    if not rows:
        return []
    wanted, out = set(rows), []
    with open(path, "rb") as f:
        nonblank = 0
        for line in f:
            if not line.strip():
                continue  # DuckDB does not count blank lines either
            nonblank += 1
            if nonblank in wanted:
                text = line.decode("utf-8", errors="replace").strip()
                out.append(Reject(nonblank, None, "line is not a JSON object", text[:2000]))
                if len(out) == len(wanted):
                    break
    return out
