"""Writing any table to CSV, Parquet or XLSX, streamed in batches so large tables stay cheap.

Used by ``marketops export``, the web app's download buttons and notebooks alike.

Example:
    >>> import ibis, tempfile, pathlib
    >>> t = ibis.memtable({"channel": ["Email", "Paid Search"], "spend": [0.0, 120.5]})
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "spend.csv"
    >>> export_table(t, out, "csv")
    2
    >>> out.read_text(encoding="utf-8-sig").splitlines()[0]
    'channel,spend'
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from marketops.errors import MarketopsError, unknown_name

FORMATS = ("csv", "parquet", "xlsx")
#: Excel's sheet limit, less the header row.
XLSX_MAX_ROWS = 1_048_575


def format_from_path(path: Path, fmt: str | None) -> str:
    """The export format: the one asked for, else the file's extension."""
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise unknown_name("export format", fmt, FORMATS)
    return fmt


def _batches(table: ibis.Table | pa.Table) -> pa.RecordBatchReader:
    """The table's rows as a stream of Arrow batches (never all in memory at once)."""
    if isinstance(table, pa.Table):
        return table.to_reader()
    backend = table._find_backend(use_default=True)
    if backend.name == "duckdb":
        # Ibis 12 streams DuckDB results with a method DuckDB 2.0 no longer has; ask DuckDB directly.
        backend._run_pre_execute_hooks(table)
        return backend.con.sql(str(backend.compile(table))).to_arrow_reader(100_000)
    return table.to_pyarrow_batches(chunk_size=100_000)


def export_table(table: ibis.Table | pa.Table, path: Path, fmt: str | None = None) -> int:
    """Write ``table`` to ``path`` as csv, parquet or xlsx; returns the number of rows written."""
    path = Path(path)
    fmt = format_from_path(path, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    reader = _batches(table)
    if fmt == "parquet":
        n = 0
        with pq.ParquetWriter(path, reader.schema) as w:
            for batch in reader:
                w.write_batch(batch)
                n += batch.num_rows
        return n
    if fmt == "csv":
        return _write_csv(reader, path)
    return _write_xlsx(reader, path)


def _cell(v):
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.replace(tzinfo=None)
    return v


def _write_csv(reader: pa.RecordBatchReader, path: Path) -> int:
    # UTF-8 with BOM: Excel then opens accents and Cyrillic correctly, other tools ignore the BOM.
    n = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(reader.schema.names)
        for batch in reader:
            cols = [c.to_pylist() for c in batch.columns]
            w.writerows(zip(*cols))
            n += batch.num_rows
    return n


def _write_xlsx(reader: pa.RecordBatchReader, path: Path) -> int:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "remove_timezone": True})
    ws = wb.add_worksheet("data")
    bold = wb.add_format({"bold": True})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ts_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for j, name in enumerate(reader.schema.names):
        ws.write(0, j, name, bold)
    n = 0
    try:
        for batch in reader:
            if n + batch.num_rows > XLSX_MAX_ROWS:
                raise MarketopsError(
                    f"the table has more than {XLSX_MAX_ROWS:,} rows, more than an Excel sheet holds",
                    hint="export it as csv or parquet instead")
            cols = [c.to_pylist() for c in batch.columns]
            for i, row in enumerate(zip(*cols), start=n + 1):
                for j, v in enumerate(row):
                    v = _cell(v)
                    if v is None:
                        continue
                    if isinstance(v, dt.datetime):
                        ws.write_datetime(i, j, v, ts_fmt)
                    elif isinstance(v, dt.date):
                        ws.write_datetime(i, j, dt.datetime(v.year, v.month, v.day), date_fmt)
                    else:
                        ws.write(i, j, v)
            n += batch.num_rows
    finally:
        wb.close()
    return n
