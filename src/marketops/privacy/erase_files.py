"""Erasure in files: what marketops wrote (run records, scorecard history, quarantine files, caches,
exports it keeps a record of) is rewritten without the person; the user's own files in ``inbox/``
are only reported, or rewritten without the person's rows when asked (``--inbox``).

Example:
    >>> import tempfile, pathlib
    >>> from marketops.privacy.identifiers import Subject
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "c.csv").write_text("Email,Name\\nann@x.com,Ann\\nbo@x.com,Bo\\n")
    >>> s = Subject(requested="ann@x.com", emails={"ann@x.com"})
    >>> rows_mentioning(d / "c.csv", s), rewrite_source(d / "c.csv", s), (d / "c.csv").read_text().splitlines()
    (1, 1, ['Email,Name', 'bo@x.com,Bo'])
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from marketops.privacy.identifiers import Subject
from marketops.workspace import Workspace

#: State files never rewritten as text: databases (searched through their own engines).
_DATABASES = ("warehouse.duckdb", "app.sqlite")
#: Files above this size are skipped as text (reported so that nobody believes they were checked).
MAX_TEXT_BYTES = 200 * 1024 * 1024
ERASED = "[erased]"
LEDGER = "privacy/exports.json"


def _matcher(subject: Subject) -> re.Pattern[str]:
    """Emails, person ids and record keys as whole words, names and phones as written."""
    extra = sorted({*(n.lower() for n in subject.names), *subject.phones}, key=len, reverse=True)
    pattern = subject.sql_pattern()
    if extra:
        pattern = f"(?:{pattern})|(?:()({'|'.join(re.escape(v) for v in extra)})())"
    return re.compile(pattern, re.IGNORECASE)


def _mentions(text: str, m: re.Pattern[str]) -> bool:
    return m.search(text) is not None


def _replace(text: str, m: re.Pattern[str]) -> str:
    def sub(match: re.Match) -> str:
        groups = [g or "" for g in match.groups()]
        # keep the delimiters the pattern captured around the value
        if groups and (match.group(2) is not None):
            return groups[0] + ERASED + groups[2]
        return ERASED
    return m.sub(sub, text)


def _is_database(path: Path) -> bool:
    return any(path.name.startswith(db) for db in _DATABASES) or "spark" in path.parts


def recorded_exports(ws: Workspace) -> list[Path]:
    """Files marketops wrote into the workspace on request (audience and person exports)."""
    path = ws.state_dir / LEDGER
    try:
        return [Path(p) for p in json.loads(path.read_text(encoding="utf-8"))]
    except (FileNotFoundError, ValueError):
        return []


def record_export(ws: Workspace, file: Path) -> None:
    """Remember a file marketops wrote with people in it, so that erasure can find it later."""
    path = ws.state_dir / LEDGER
    path.parent.mkdir(parents=True, exist_ok=True)
    known = {str(p) for p in recorded_exports(ws)} | {str(Path(file).resolve())}
    path.write_text(json.dumps(sorted(known), indent=1), encoding="utf-8")


def erase_state_files(ws: Workspace, subject: Subject, *, dry_run: bool = False) -> list[dict]:
    """Rewrite (text) or remove (binary) every file under ``.marketops/`` and every recorded export
    that mentions the person; return one entry per file."""
    m = _matcher(subject)
    out: list[dict] = []
    candidates = [p for p in sorted(ws.state_dir.rglob("*")) if p.is_file() and not _is_database(p)]
    candidates += [p for p in recorded_exports(ws) if p.is_file()]
    for path in candidates:
        rel = _relative(ws, path)
        if path.stat().st_size > MAX_TEXT_BYTES:
            out.append({"path": rel, "action": "skipped (too large to check)"})
            continue
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            low = data.lower()
            if any(v.lower().encode() in low for v in subject.text_values() if v):
                out.append({"path": rel, "action": "removed (binary file)"})
                if not dry_run:
                    path.unlink()
            continue
        if _mentions(text, m):
            out.append({"path": rel, "action": "rewritten"})
            if not dry_run:
                tmp = path.with_suffix(path.suffix + ".erasing")
                tmp.write_text(_replace(text, m), encoding="utf-8")
                tmp.replace(path)
    return out


def _relative(ws: Workspace, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ws.root.resolve()))
    except ValueError:
        return str(path)


def rows_mentioning(path: Path, subject: Subject) -> int:
    """Data rows of a source file (CSV, JSON lines, text) that mention the person; -1 for a workbook
    that was not opened."""
    m = _matcher(subject)
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        return _workbook_rows(path, m)
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    if path.suffix.lower() == ".csv":
        rows = list(csv.reader(io.StringIO(text)))
        return sum(1 for r in rows[1:] if _mentions(",".join(r), m))
    return sum(1 for line in text.splitlines() if _mentions(line, m))


def _workbook_rows(path: Path, m: re.Pattern[str]) -> int:
    try:
        from openpyxl import load_workbook
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        return -1
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        return sum(1 for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
                   if _mentions(" ".join("" if v is None else str(v) for v in row), m))
    finally:
        wb.close()


def rewrite_source(path: Path, subject: Subject) -> int:
    """Rewrite a CSV or JSON-lines source file without the rows that mention the person; return how
    many rows were dropped (workbooks are not rewritten: -1)."""
    m = _matcher(subject)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return -1
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig", errors="replace")
    if suffix == ".csv":
        rows = list(csv.reader(io.StringIO(text)))
        kept = rows[:1] + [r for r in rows[1:] if not _mentions(",".join(r), m)]
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(kept)
        new, dropped = buf.getvalue(), len(rows) - len(kept)
    else:
        lines = text.splitlines(keepends=True)
        kept_lines = [line for line in lines if not _mentions(line, m)]
        new, dropped = "".join(kept_lines), len(lines) - len(kept_lines)
    if dropped:
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + new.encode("utf-8"))
    return dropped


def inbox_files(ws: Workspace, subject: Subject, *, rewrite: bool = False, dry_run: bool = False) -> list[dict]:
    """Source files in the inbox that still hold the person: counted, or rewritten when asked."""
    out: list[dict] = []
    if not ws.inbox.exists():
        return out
    for path in sorted(p for p in ws.inbox.rglob("*") if p.is_file()):
        try:
            n = rows_mentioning(path, subject)
        except (OSError, ValueError):
            continue
        if n == 0:
            continue
        entry = {"path": _relative(ws, path), "rows": n}
        if rewrite and not dry_run:
            dropped = rewrite_source(path, subject)
            entry["action"] = "rewritten without the person" if dropped > 0 else "not rewritten (workbook: edit by hand)"
        else:
            entry["action"] = "still contains the person (your file: not changed)"
        out.append(entry)
    return out


def other_workspace_files(ws: Workspace, subject: Subject) -> list[dict]:
    """Files elsewhere in the workspace (not inbox, not state, not recorded exports) that mention the
    person: marketops did not write them as far as it knows, so it only reports them."""
    m = _matcher(subject)
    recorded = {p.resolve() for p in recorded_exports(ws)}
    out = []
    for path in sorted(ws.root.rglob("*")):
        if (not path.is_file() or ws.state_dir in path.parents or ws.inbox in path.parents
                or path.resolve() in recorded or path.stat().st_size > MAX_TEXT_BYTES):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if _mentions(text, m):
            out.append({"path": _relative(ws, path), "action": "still contains the person (not written by marketops)"})
    return out
