"""Every table a page shows can be downloaded: ``?format=csv`` or ``?format=xlsx`` on the page's
API endpoint answers the same rows as a file (CSV with a BOM so Excel reads accents; XLSX through
:mod:`marketops.exports`, the writer ``marketops export`` uses).

Example:
    >>> r = download([{"channel": "Email", "leads": 3}], "channels", "csv")
    >>> r.headers["content-disposition"]
    'attachment; filename="channels.csv"'
    >>> r.body.decode("utf-8-sig").splitlines()
    ['channel,leads', 'Email,3']
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import pyarrow as pa
from fastapi import Query
from starlette.responses import Response

from marketops.exports import export_table

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
#: ``?format=`` on report endpoints: JSON by default, or a file of the same rows.
Format = Annotated[Literal["json", "csv", "xlsx"], Query(description="json (default), csv or xlsx (a download).")]


def safe_filename(name: str) -> str:
    """A file name that is safe in a Content-Disposition header and on any disk.

    >>> safe_filename('../../etc/passwd"; x=.csv')
    'etc_passwd_x_.csv'
    """
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return cleaned[:120] or "download"


def download(rows: pa.Table | Sequence[dict[str, Any]], name: str, fmt: str) -> Response:
    """``rows`` as a CSV or XLSX attachment called ``name.<fmt>``."""
    table = rows if isinstance(rows, pa.Table) else _table(rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"out.{fmt}"
        export_table(table, path, fmt)
        body = path.read_bytes()
    filename = safe_filename(f"{name}.{fmt}")
    return Response(body, media_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _table(rows: Sequence[dict[str, Any]]) -> pa.Table:
    if not rows:
        return pa.table({"": pa.array([], pa.string())})
    columns = list(dict.fromkeys(k for r in rows for k in r))
    return pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows])


def page_json(items: Sequence[Any], total: int, limit: int, offset: int, **extra: Any) -> dict[str, Any]:
    """The API's list envelope: ``{"items", "total", "limit", "offset"}`` (plus ``extra``).

    >>> page_json([1, 2], 10, 2, 0)
    {'items': [1, 2], 'total': 10, 'limit': 2, 'offset': 0}
    """
    return {"items": list(items), "total": total, "limit": limit, "offset": offset, **extra}


#: Page size and position for every list endpoint.
Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Offset = Annotated[int, Query(ge=0, description="Items to skip.")]
