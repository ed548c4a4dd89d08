"""Importing a budget plan from CSV: columns ``month, channel, platform, campaign, amount, currency``
(and an optional ``note``), one line per row.

Each row is checked on its own: a bad row is reported with the file, its row number (the header
is row 1, as a spreadsheet numbers it) and the column at fault, and the good rows still load.
Amounts are read all together as one money column (see :mod:`marketops.plan.budget_amounts`).
Importing the same file again changes nothing: each row sets its month and scope to the amount it
already has.

Example:
    >>> from marketops.state.db import init_db, session_scope
    >>> from marketops.plan.budget_lines import BudgetContext
    >>> import tempfile, pathlib
    >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'app.sqlite'}"
    >>> _ = init_db(url)
    >>> ctx = BudgetContext(reporting_currency="EUR", channels=("Email", "Paid Search"), platforms=("google_ads",),
    ...                     data_channels=("Email", "Paid Search"))
    >>> text = "month,channel,platform,campaign,amount,currency\\n2026-12,Paid Search,,,12 000,EUR\\n2026-13,Emial,,,-5,EUR\\n"
    >>> with session_scope(url) as s:
    ...     r = import_text(s, ctx, text, file="plan.csv", actor="cli")
    >>> r.created, [str(e) for e in r.errors]
    (1, ["plan.csv, row 3, column 'month': month '2026-13' is not a month written YYYY-MM, e.g. 2026-12"])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from marketops.errors import MarketopsError, SourceError
from marketops.plan.budget_amounts import parse_amounts
from marketops.plan.budget_lines import BudgetContext, BudgetRefused, SetResult, set_line
from marketops.plan.plan_csv import RowError, decode, read_csv

COLUMNS = ("month", "channel", "platform", "campaign", "amount", "currency")
REQUIRED = ("month", "amount")
#: A plan file is small; a bigger one is almost certainly the wrong file.
MAX_ROWS = 20_000


@dataclass
class ImportResult:
    file: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    #: Notes on converted amounts: (row, note).
    conversions: list[tuple[int, str]] = field(default_factory=list)
    results: list[SetResult] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.errors)

    @property
    def summary(self) -> str:
        text = (f"{self.file}: {self.created} line(s) added, {self.updated} updated, {self.unchanged} unchanged, "
                f"{len(self.errors)} row(s) refused")
        return text

    def to_json(self) -> dict:
        return {"file": self.file, "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "refused": len(self.errors), "errors": [e.to_json() for e in self.errors],
                "conversions": [{"row": r, "note": n} for r, n in self.conversions], "message": self.summary}


def import_text(session: Session, ctx: BudgetContext, text: str, *, file: str, actor: str,
                ip: str | None = None) -> ImportResult:
    """Import the CSV ``text`` (``file`` names it in messages); rows that fail are in ``errors``."""
    header, rows = read_csv(text, file, columns=(*COLUMNS, "note"), required=REQUIRED,
                            example="month,channel,amount,currency")
    if not {"channel", "platform"} & set(header):
        raise SourceError(f"the header lacks 'channel' or 'platform'; the columns are {', '.join(COLUMNS)}", file=file, row=1)
    if len(rows) > MAX_ROWS:
        raise SourceError(f"more than {MAX_ROWS:,} rows: a budget plan is one row per month and scope", file=file)
    # amounts are read together: the column's format is decided from all of them, as in the ingest
    amounts = parse_amounts([r["amount"] for _, r in rows])
    result = ImportResult(file=file)
    for (number, row), parsed in zip(rows, amounts, strict=True):
        value = parsed.amount if parsed.amount is not None else row["amount"]
        currency = row.get("currency") or parsed.currency
        try:
            with session.begin_nested():
                outcome = set_line(session, ctx, row["month"], value, channel=row.get("channel"),
                                   platform=row.get("platform"), campaign=row.get("campaign"),
                                   currency=currency, note=row.get("note"), actor=actor, ip=ip,
                                   written_as=row["amount"])
        except BudgetRefused as e:
            result.errors.append(RowError(file, number, e.column, e.message))
            continue
        except MarketopsError as e:
            result.errors.append(RowError(file, number, None, e.message))
            continue
        setattr(result, outcome.status, getattr(result, outcome.status) + 1)
        result.results.append(outcome)
        if outcome.conversion:
            result.conversions.append((number, outcome.conversion))
    return result


def import_file(session: Session, ctx: BudgetContext, path: Path, *, actor: str, ip: str | None = None,
                name: str | None = None) -> ImportResult:
    """Import the CSV at ``path`` (UTF-8, with or without a BOM; comma, semicolon or tab separated)."""
    try:
        text = decode(path.read_bytes(), name or path.name)
    except OSError as e:
        raise SourceError(f"cannot read the file: {e.strerror}", file=name or str(path)) from None
    return import_text(session, ctx, text, file=name or path.name, actor=actor, ip=ip)
