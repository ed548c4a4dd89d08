"""Reading an export in tests exactly as the loader does (header row, encoding, delimiter)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from marketops.engine.duckdb import quiet_duckdb
from marketops.ingest.readers import read_file


def read_export(path: Path) -> tuple[list[str], list[list[str | None]]]:
    """Header and data rows (text cells, file order) of the first sheet of ``path``."""
    con = quiet_duckdb()
    try:
        sheet = read_file(path, con, tmp_dir=Path(tempfile.gettempdir()))[0]
        rows = con.execute(f"SELECT * EXCLUDE (_row) FROM {sheet.relation} ORDER BY _row").fetchall()
        return sheet.headers, [list(r) for r in rows]
    finally:
        con.close()
