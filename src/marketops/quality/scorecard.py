"""The data-quality scorecard: per table, source system and column, for one pipeline run.

:func:`compute_scorecard` measures the canonical tables a run built and returns a
:class:`Scorecard`: metric rows (completeness, validity, uniqueness, consistency, freshness,
quarantine and duplicate rates...; see :data:`~marketops.quality.scorecard_thresholds.METRICS`)
and findings, plain sentences about input that needs a person's attention (a source with nothing
to match people on, a column full of placeholders, an empty table). Bad input never raises: it
becomes a finding. :func:`~marketops.quality.scorecard_thresholds.evaluate` checks the rows
against the workspace's thresholds, and :mod:`~marketops.quality.scorecard_history` keeps one
scorecard per run so trends show.

Example:
    >>> import tempfile, pathlib, pyarrow as pa
    >>> from datetime import datetime, UTC
    >>> from marketops.engine import connect
    >>> engine = connect("duckdb", pathlib.Path(tempfile.mkdtemp()))
    >>> engine.write("people__r1", pa.table({"_source_system": ["crm", "crm", "crm", "crm"],
    ...                                      "email": ["a@x.com", "a@x.com", "b@x.com", None]}))
    >>> card = compute_scorecard(engine, {"people": "people__r1"}, run_id="r1", now=datetime.now(UTC))
    >>> card.value("people", "crm", "email", "completeness")
    0.75
    >>> card.value("people", "crm", "email", "uniqueness")  # two of three addresses are shared
    0.3333333333333333
    >>> engine.close()
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime

import pyarrow as pa

from marketops.engine import Engine
from marketops.quality import scorecard_metrics as m
from marketops.quality.scorecard_thresholds import Breach, QualityConfig, format_value
from marketops.schema import ENTITIES

SCORECARD_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("computed_at", pa.timestamp("us")), ("table", pa.string()),
    ("source", pa.string()), ("file", pa.string()), ("column", pa.string()), ("metric", pa.string()),
    ("value", pa.float64()), ("n", pa.int64()), ("total", pa.int64()), ("detail", pa.string()),
])


@dataclass(frozen=True)
class ScoreRow:
    """One measurement. ``value`` is ``n / total`` for rates (None when there was nothing to judge),
    hours for freshness, a count for ``rows``; ``column`` is None for per-source metrics and
    ``file`` is set only on per-file quarantine rows."""

    table: str
    source: str
    column: str | None
    metric: str
    value: float | None
    n: int | None = None
    total: int | None = None
    detail: str | None = None
    file: str | None = None


@dataclass(frozen=True)
class Finding:
    """Something in the input a person should look at, in one plain sentence.

    ``code`` says what kind (``no_identifier``, ``placeholders``, ``empty_columns``, ``empty_table``,
    ``missing_table``, ``missing_column``, ``future_dates``, ``failed_load``) for programs."""

    severity: str  # warning | info
    code: str
    table: str | None
    source: str | None
    column: str | None
    message: str


@dataclass
class Scorecard:
    """The scorecard of one run: rows, findings and (once checked) the threshold breaches."""

    run_id: str
    rows: list[ScoreRow] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    computed_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    breaches: list[Breach] = field(default_factory=list)

    def get(self, table: str, source: str, column: str | None, metric: str,
            file: str | None = None) -> ScoreRow | None:
        for r in self.rows:
            if (r.table, r.source, r.column, r.metric, r.file) == (table, source, column, metric, file):
                return r
        return None

    def value(self, table: str, source: str, column: str | None, metric: str) -> float | None:
        """The value of one measurement (None when absent or not measurable)."""
        row = self.get(table, source, column, metric)
        return row.value if row else None

    def filter(self, *, table: str | None = None, source: str | None = None, column: str | None = None,
               metric: str | None = None) -> Scorecard:
        """The part of the scorecard about one table, source, column or metric (findings and breaches too)."""
        def keep(x) -> bool:
            return ((table is None or x.table == table) and (source is None or x.source == source)
                    and (column is None or x.column == column)
                    and (metric is None or getattr(x, "metric", metric) == metric))
        return Scorecard(self.run_id, [r for r in self.rows if keep(r)],
                         [f for f in self.findings if (table is None or f.table in (table, None))
                          and (source is None or f.source in (source, None))
                          and (column is None or f.column in (column, None))],
                         self.computed_at, [b for b in self.breaches if keep(b)])

    @property
    def status(self) -> str:
        """``fail`` when a fail threshold was breached, ``warn`` for a warning, else ``ok``."""
        actions = {b.action for b in self.breaches}
        return "fail" if "fail" in actions else "warn" if "warn" in actions else "ok"

    def to_arrow(self) -> pa.Table:
        """The rows as an Arrow table (:data:`SCORECARD_SCHEMA`), ready for ``engine.write``."""
        at = self.computed_at.astimezone(UTC).replace(tzinfo=None)
        rows = [{"run_id": self.run_id, "computed_at": at, **asdict(r)} for r in self.rows]
        return pa.Table.from_pylist(rows, schema=SCORECARD_SCHEMA)

    def to_json(self) -> dict:
        return {"run_id": self.run_id, "computed_at": self.computed_at.isoformat(), "status": self.status,
                "rows": [asdict(r) for r in self.rows], "findings": [asdict(f) for f in self.findings],
                "breaches": [b.to_json() for b in self.breaches]}

    @classmethod
    def from_json(cls, d: dict) -> Scorecard:
        known = {f.name for f in fields(ScoreRow)}
        rows = [ScoreRow(**{k: v for k, v in r.items() if k in known}) for r in d.get("rows", [])]
        return cls(d["run_id"], rows, [Finding(**f) for f in d.get("findings", [])],
                   datetime.fromisoformat(d["computed_at"]),
                   [Breach.from_json(b) for b in d.get("breaches", [])])


def _rate(n: int, total: int) -> float | None:
    return n / total if total else None


def _hours(now: datetime, then: datetime) -> float:
    return (now - m.as_utc(then)).total_seconds() / 3600


def _counted(items: list[tuple[str, int]], *, quote: bool = True) -> str:
    return ", ".join(f"'{v}' ({n:,})" if quote else f"{v} ({n:,})" for v, n in items)


def compute_scorecard(engine: Engine, tables: dict[str, str], *, run_id: str, now: datetime | None = None,
                      config: QualityConfig | None = None) -> Scorecard:
    """Measure the run's canonical ``tables`` (canonical name -> physical table) on ``engine``.

    Reads only; the caller decides where the result goes (``to_arrow()`` for the warehouse,
    :func:`~marketops.quality.scorecard_history.save_scorecard` for the history). Tables that
    are not canonical entities (a scorecard, an identity map) are skipped. ``now`` is the time
    freshness is measured against (default: now).
    """
    now = m.as_utc(now or datetime.now(UTC))
    config = config or QualityConfig()
    card = Scorecard(run_id, computed_at=now)
    existing = set(engine.tables())
    loads = m.latest_loads(engine)
    for name, physical in tables.items():
        entity = ENTITIES.get(name)
        if entity is None:
            continue
        if physical not in existing:
            card.findings.append(Finding(
                "warning", "missing_table", name, None, None,
                f"table {name}: the run's table {physical} is missing from the warehouse"))
            continue
        _score_table(card, engine, name, physical, now, config,
                     [f for f in loads if f.entity == name and f.status == "loaded"])
    for f in loads:
        if f.status == "failed" and (f.entity is None or f.entity in tables):
            card.findings.append(Finding("warning", "failed_load", f.entity, f.system, None,
                                         f"file {f.label} could not be loaded ({f.message}); "
                                         "its rows are in no table"))
    from marketops.quality.utm_ingestion import utm_score_rows  # the run's UTM step, when it had one

    card.rows.extend(utm_score_rows(engine, tables))
    return card


def _score_table(card: Scorecard, engine: Engine, name: str, physical: str, now: datetime,
                 config: QualityConfig, loads: list[m.FileLoad]) -> None:
    entity = ENTITIES[name]
    t = engine.con.table(physical)
    plans, missing = m.plan_columns(t, entity)
    for c in missing:
        card.findings.append(Finding("warning", "missing_column", name, None, c,
                                     f"table {name} has no column '{c}': its quality cannot be measured"))
    profile = m.source_profile(t, entity, plans)
    if not profile:
        card.findings.append(Finding("warning", "empty_table", name, None, None,
                                     f"table {name} has no records in this run"))
    duplicates = m.identifier_duplicates(t, entity, plans) if profile else {}
    reasons = m.rejection_reasons(t, plans) if profile else {}
    examples = m.placeholder_examples(t, plans) if profile else {}
    for source, prof in sorted(profile.items()):
        _score_columns(card, name, source, prof, plans, duplicates, reasons, examples, config)
        _score_source(card, name, source, prof, now)
    by_source: dict[str, list[m.FileLoad]] = {}
    for f in loads:
        by_source.setdefault(f.system or m.UNKNOWN_SOURCE, []).append(f)
    for source in sorted(set(by_source) - set(profile)):
        # every row of the source's files was quarantined: the source still shows, with 0 rows
        card.rows.append(ScoreRow(name, source, None, "rows", 0.0, 0, None, "no records reached the table"))
    for source, files in sorted(by_source.items()):
        _score_loads(card, name, source, files, now)


def _score_columns(card: Scorecard, table: str, source: str, prof: dict, plans: list[m.ColumnPlan],
                   duplicates: dict, reasons: dict, examples: dict, config: QualityConfig) -> None:
    rows = prof["rows"]
    empty = []
    for p in plans:
        ne = prof["nonempty"][p.name]
        if ne == 0:
            empty.append(p.name)
        card.rows.append(ScoreRow(table, source, p.name, "completeness", _rate(ne, rows), ne, rows,
                                  f"empty in all {rows:,} records" if ne == 0 else None))
        if p.normalised:
            ok = prof["accepted"][p.name]
            top = reasons.get((source, p.name), [])
            detail = (f"{ne - ok:,} rejected; most often {_counted(top)}" if ne - ok and top
                      else f"{ne - ok:,} rejected" if ne - ok else None)
            card.rows.append(ScoreRow(table, source, p.name, "validity", _rate(ok, ne), ok, ne,
                                      detail if ne else "no values to check"))
            same = prof["already_clean"][p.name]
            card.rows.append(ScoreRow(table, source, p.name, "consistency", _rate(same, ne), same, ne,
                                      f"{ne - same:,} values rewritten into the clean form" if ne - same
                                      else None if ne else "no values to check"))
            ph = prof.get("placeholders", {}).get(p.name, 0)
            if ph and ph >= config.placeholder_share * ne:
                such = examples.get((source, p.name), [])
                card.findings.append(Finding(
                    "warning", "placeholders", table, source, p.name,
                    f"source {source}, column {p.name}: {ph:,} of {ne:,} values are placeholders"
                    f"{' such as ' + _counted(such) if such else ''}; they are treated as empty"))
        if (source, p.name) in duplicates:
            values, dup, shared = duplicates[(source, p.name)]
            unique = values - dup
            detail = f"{dup:,} records share {shared:,} values" if dup else None
            card.rows.append(ScoreRow(table, source, p.name, "uniqueness", _rate(unique, values), unique,
                                      values, detail))
    for flag, metric, what in (("email_role", "role_address_rate", "role addresses (info@, sales@...)"),
                               ("email_disposable", "disposable_rate", "at disposable-address domains")):
        if flag in prof.get("flag", {}):
            n, accepted = prof["flag"][flag], prof["accepted"]["email"]
            card.rows.append(ScoreRow(table, source, "email", metric, _rate(n, accepted), n, accepted,
                                      f"{n:,} of {accepted:,} accepted emails are {what}" if n else None))
    if empty and rows:
        card.findings.append(Finding(
            "info", "empty_columns", table, source, None,
            f"source {source} ({table}): {len(empty)} of {len(plans)} columns are empty in all "
            f"{rows:,} records: {', '.join(empty)}"))


def _score_source(card: Scorecard, table: str, source: str, prof: dict, now: datetime) -> None:
    rows = prof["rows"]
    card.rows.append(ScoreRow(table, source, None, "rows", float(rows), rows, None))
    if "identified" in prof:
        ids = prof["identified"]
        detail = None if ids == rows else f"{rows - ids:,} records carry no email, phone or record id"
        card.rows.append(ScoreRow(table, source, None, "identifier_coverage", _rate(ids, rows), ids, rows,
                                  detail))
        if ids == 0:
            card.findings.append(Finding(
                "warning", "no_identifier", table, source, None,
                f"source {source}: 0 of {rows:,} records carry an email, phone or record id; "
                "they can only be matched by name"))
    newest = prof.get("newest", {})
    if newest:
        column, value = max(newest.items(), key=lambda kv: m.as_utc(kv[1]))
        hours = _hours(now, value)
        shown = m.as_utc(value).strftime("%Y-%m-%d %H:%M UTC")
        detail = f"newest {column}: {shown}"
        if hours < 0:
            detail += " (in the future: check the source's time zone or dates)"
            card.findings.append(Finding("info", "future_dates", table, source, column,
                                         f"source {source} ({table}): the newest {column} is {shown}, "
                                         f"{-hours:,.1f} hours after this run"))
        card.rows.append(ScoreRow(table, source, None, "freshness_hours", hours, None, None, detail))
    if "persons" in prof:
        persons = prof["persons"]
        extra = rows - persons
        card.rows.append(ScoreRow(table, source, None, "duplicate_rate", _rate(extra, rows), extra, rows,
                                  f"{rows:,} records are {persons:,} people"))


def _score_loads(card: Scorecard, table: str, source: str, files: list[m.FileLoad], now: datetime) -> None:
    last = max(files, key=lambda f: f.loaded_at)
    card.rows.append(ScoreRow(table, source, None, "hours_since_load", _hours(now, last.loaded_at), None,
                              None, f"last loaded {last.loaded_at:%Y-%m-%d %H:%M} UTC ({last.label})"))
    rows_in = sum(f.rows_in for f in files)
    quarantined = sum(f.rows_quarantined for f in files)
    worst = max(files, key=lambda f: (_rate(f.rows_quarantined, f.rows_in) or 0, f.rows_quarantined))
    detail = (f"most in {worst.label}: {worst.rows_quarantined:,} of {worst.rows_in:,}"
              if quarantined else None)
    card.rows.append(ScoreRow(table, source, None, "quarantine_rate", _rate(quarantined, rows_in),
                              quarantined, rows_in, detail))
    for f in sorted(files, key=lambda f: f.label):
        detail = f"by column: {_counted(list(f.columns), quote=False)}" if f.columns else None
        rate = _rate(f.rows_quarantined, f.rows_in)
        card.rows.append(ScoreRow(table, source, None, "quarantine_rate", rate, f.rows_quarantined, f.rows_in,
                                  detail, file=f.label))


__all__ = ["SCORECARD_SCHEMA", "Finding", "ScoreRow", "Scorecard", "compute_scorecard", "format_value"]
