"""One scorecard per run, kept as JSON beside the run records, so trends show.

Scorecards live in ``.marketops/runs/quality/<run_id>.json``: a folder of their own, so the run
records' ``r*.json`` stay the only JSON files directly in ``runs/``. Run ids sort by time, so the
newest scorecards are the last file names.

Example:
    >>> import tempfile, pathlib
    >>> from marketops.workspace import Workspace
    >>> from marketops.quality.scorecard import Scorecard, ScoreRow
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
    >>> for run, value in (("r1", 0.8), ("r2", 0.9)):
    ...     row = ScoreRow("people", "crm", "email", "completeness", value)
    ...     _ = save_scorecard(ws, Scorecard(run, [row]))
    >>> trend(load_history(ws), "people", "crm", "email", "completeness")
    [('r1', 0.8), ('r2', 0.9)]
    >>> ws.close()
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from marketops.errors import unknown_name
from marketops.quality.scorecard import Scorecard
from marketops.quality.scorecard_thresholds import Breach
from marketops.workspace import Workspace

QUALITY_DIR = "quality"


def scorecard_path(ws: Workspace, run_id: str) -> Path:
    """Where the scorecard of ``run_id`` is kept."""
    return ws.runs_dir / QUALITY_DIR / f"{run_id}.json"


def save_scorecard(ws: Workspace, scorecard: Scorecard, breaches: Iterable[Breach] | None = None) -> Path:
    """Keep ``scorecard`` (with the ``breaches`` found when the run was checked); returns the file.

    Written to a temporary file and renamed, so a crash never leaves half a scorecard.
    """
    if breaches is not None:
        scorecard.breaches = list(breaches)
    path = scorecard_path(ws, scorecard.run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    text = json.dumps(scorecard.to_json(), indent=1, default=str, ensure_ascii=False)
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def _files(ws: Workspace) -> list[Path]:
    folder = ws.runs_dir / QUALITY_DIR
    return sorted(folder.glob("r*.json")) if folder.exists() else []


def load_scorecard(ws: Workspace, run_id: str | None = None) -> Scorecard | None:
    """The scorecard of ``run_id`` (an error naming the known runs if there is none), or the
    newest one when ``run_id`` is None (None when no run has kept one yet)."""
    if run_id is None:
        files = _files(ws)
        return Scorecard.from_json(json.loads(files[-1].read_text(encoding="utf-8"))) if files else None
    path = scorecard_path(ws, run_id)
    if not path.exists():
        raise unknown_name("run with a scorecard", run_id, [p.stem for p in _files(ws)])
    return Scorecard.from_json(json.loads(path.read_text(encoding="utf-8")))


def load_history(ws: Workspace, limit: int = 10) -> list[Scorecard]:
    """The scorecards of the last ``limit`` runs that kept one, oldest first (the order a trend reads)."""
    files = _files(ws)[-limit:] if limit > 0 else []
    return [Scorecard.from_json(json.loads(p.read_text(encoding="utf-8"))) for p in files]


def trend(history: list[Scorecard], table: str, source: str, column: str | None,
          metric: str) -> list[tuple[str, float | None]]:
    """One metric's values over the runs of ``history``: ``(run_id, value)``, None where not measured."""
    return [(card.run_id, card.value(table, source, column, metric)) for card in history]
