"""Speed-to-lead reports: the summary, compliance by owner, team, source, channel, first-touch type or
week, the breach list and the open board.

* ``met_share`` = met / (met + breached + open_breached): the MQLs whose outcome is known; MQLs still
  within their target are not counted yet (they may still be met).
* ``median_hours`` / ``p90_hours``: response business hours of the touched MQLs (linear interpolation).

Example:
    >>> import datetime as dt, pyarrow as pa
    >>> rows = pa.table({"owner_name": ["Ana", "Ana", "Bo"], "status": ["met", "breached", "open"],
    ...                  "response_hours": [2.0, 30.0, None]})
    >>> [(r["owner"], r["mqls"], r["met_share"], r["median_hours"]) for r in compliance(rows, "owner")]
    [('Ana', 2, 0.5, 16.0), ('Bo', 1, None, None)]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from marketops.errors import unknown_name

#: ``--by`` choices -> the column grouped on.
BY = {"owner": "owner_name", "team": "team", "source": "lead_source", "channel": "channel_group",
      "touch": "touch_type", "week": "week"}
NONE_LABEL = "(none)"
REPORT_COLUMNS = ("mqls", "touched", "met", "breached", "open", "near_breach", "open_breached", "met_share",
                  "median_hours", "p90_hours")


def check_by(by: str) -> str:
    """``by`` when it is a known grouping, else NotFound with "did you mean"."""
    if by not in BY:
        raise unknown_name("grouping", by, BY)
    return by


def _stats(status: np.ndarray, response: np.ndarray) -> dict[str, Any]:
    counts = {s: int((status == s).sum()) for s in ("met", "breached", "open", "near_breach", "open_breached")}
    decided = counts["met"] + counts["breached"] + counts["open_breached"]
    hours = response[~np.isnan(response)]
    return {"mqls": len(status), "touched": len(hours), **counts,
            "met_share": round(counts["met"] / decided, 4) if decided else None,
            "median_hours": round(float(np.percentile(hours, 50)), 2) if len(hours) else None,
            "p90_hours": round(float(np.percentile(hours, 90)), 2) if len(hours) else None}


def _arrays(rows: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    status = np.array(rows.column("status").to_pylist(), dtype=object)
    response = pc.fill_null(pc.cast(rows.column("response_hours"), pa.float64()), math.nan).to_numpy(
        zero_copy_only=False)
    return status, response


def summary(rows: pa.Table) -> dict[str, Any]:
    """Counts per status, the met share and the response-time median and p90 over every MQL."""
    status, response = _arrays(rows)
    return _stats(status, response)


def compliance(rows: pa.Table, by: str) -> list[dict[str, Any]]:
    """One row per value of ``by`` (see :data:`BY`) with :data:`REPORT_COLUMNS`; weeks in time order, the
    rest by MQLs (most first)."""
    column = BY[check_by(by)] if by in BY else by
    status, response = _arrays(rows)
    raw = rows.column(column).to_pylist() if rows.num_rows else []
    keys = np.array([NONE_LABEL if v is None or v == "" else (v.isoformat() if by == "week" else str(v))
                     for v in raw], dtype=object)
    out = []
    for key in dict.fromkeys(keys.tolist()):
        mask = keys == key
        out.append({by: key, **_stats(status[mask], response[mask])})
    if by == "week":
        out.sort(key=lambda r: r[by])
    else:
        out.sort(key=lambda r: (-r["mqls"], r[by]))
    return out


def board(rows: pa.Table, *, statuses: Sequence[str] = ("open", "near_breach", "open_breached"),
          owner: str | None = None, team: str | None = None) -> pa.Table:
    """MQLs in ``statuses`` (default: every open one), least time left first (breached ones lead)."""
    t = rows.filter(pc.is_in(rows.column("status"), pa.array(list(statuses), pa.string())))
    if owner:  # the owner as the CRM wrote it, the configured name or the email
        key = owner.strip().lower()
        t = t.filter(pc.or_(pc.or_(
            pc.equal(pc.utf8_lower(pc.fill_null(t.column("owner"), "")), key),
            pc.equal(pc.utf8_lower(pc.fill_null(t.column("owner_name"), "")), key)),
            pc.equal(pc.utf8_lower(pc.fill_null(t.column("owner_email"), "")), key)))
    if team:
        t = t.filter(pc.equal(pc.utf8_lower(t.column("team")), team.strip().lower()))
    if t.num_rows == 0:
        return t
    return t.sort_by([("time_left_hours", "ascending"), ("mql_at", "ascending"), ("person_id", "ascending")])


def breaches(rows: pa.Table, *, near: bool = False) -> pa.Table:
    """Breached MQLs (open ones first, least time left first, then late touches, latest first); with
    ``near`` the near-breaches instead."""
    if near:
        return board(rows, statuses=("near_breach",))
    open_ = board(rows, statuses=("open_breached",))
    late = rows.filter(pc.equal(rows.column("status"), "breached"))
    if late.num_rows:
        late = late.sort_by([("mql_at", "descending"), ("person_id", "ascending")])
    return pa.concat_tables([open_, late]) if open_.num_rows and late.num_rows else (open_ if open_.num_rows else late)
