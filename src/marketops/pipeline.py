"""The pipeline: named steps run in order, each recorded; results published only when all succeed.

Steps so far: ``ingest`` (new files in the inbox -> raw tables), ``privacy`` (erased people's rows dropped,
retention rules applied; see :mod:`marketops.privacy.steps`), ``stage`` (one row per natural
key per source, the newest version winning), ``canonical`` (the canonical tables with a stable
``record_key``) and ``normalise`` (clean values beside the loaded ones, derived columns such as
``company_key`` and ``channel_group``; see :mod:`marketops.quality.clean`), then the steps of
:mod:`marketops.pipeline_resolve`: ``resolve`` (one ``person_id`` per human), ``accounts``,
``golden`` (golden records), ``stitch`` (people onto events), ``utm`` (UTM compliance against the
taxonomy) and ``quality`` (the scorecard, whose ``fail`` thresholds can stop a run); then ``score``
and ``lead_stages`` (:mod:`marketops.leads`) and ``consent`` (the consent state per person and purpose).

A run writes its tables under run-specific names; only when every step has succeeded does
:meth:`~marketops.engine.base.Engine.publish` point the canonical names at them, in one atomic
step. A failed run leaves readers on the last good results, and its record says which step
failed and why. Run records are JSON files in ``.marketops/runs/`` so they survive a crash.

Example:
    >>> import tempfile, pathlib
    >>> from marketops.workspace import Workspace
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
    >>> _ = (ws.inbox / "c.csv").write_text("Email,First Name\\na@x.com,Ann\\na@x.com,Anna\\n")
    >>> run = run_pipeline(ws)
    >>> run.status, ws.engine.count("people")
    ('succeeded', 1)
    >>> ws.close()
"""

from __future__ import annotations

import json
import secrets
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import ibis

from marketops.errors import MarketopsError, StepFailed, unknown_name
from marketops.ingest.loader import LoadResult, ingest_paths, list_files
from marketops.leads.handoff import step_lead_stages
from marketops.leads.scoring import step_score
from marketops.privacy.steps import step_consent, step_privacy
from marketops.quality import normalise_cache
from marketops.quality.clean import CleanOptions, clean_table, cleanable
from marketops.quality.utm_ingestion import step_utm
from marketops.pipeline_resolve import (
    step_accounts,
    step_golden,
    step_quality,
    step_resolve,
    step_stitch,
)
from marketops.schema import ENTITIES, Entity
from marketops.workspace import Workspace


@dataclass
class StepRecord:
    name: str
    status: str = "pending"  # pending | running | succeeded | failed
    rows_in: int = 0
    rows_out: int = 0
    seconds: float = 0.0
    error: str | None = None
    detail: dict = field(default_factory=dict)


@dataclass
class RunRecord:
    run_id: str
    status: str  # running | succeeded | failed
    started_at: datetime
    finished_at: datetime | None = None
    error: str | None = None
    steps: list[StepRecord] = field(default_factory=list)
    engine: str = "duckdb"
    #: what happened after the publish: goals measured, new MQLs routed (never fails the run)
    after: dict = field(default_factory=dict)

    @property
    def seconds(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None

    def to_json(self) -> dict:
        d = asdict(self)
        d["started_at"] = self.started_at.isoformat()
        d["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        return d

    @classmethod
    def from_json(cls, d: dict) -> RunRecord:
        return cls(run_id=d["run_id"], status=d["status"], started_at=datetime.fromisoformat(d["started_at"]),
                   finished_at=datetime.fromisoformat(d["finished_at"]) if d.get("finished_at") else None,
                   error=d.get("error"), steps=[StepRecord(**s) for s in d.get("steps", [])],
                   engine=d.get("engine", "duckdb"), after=d.get("after", {}))


class Observer(Protocol):
    """What a front end (CLI progress bars, web job log) hears about a run."""

    def step_started(self, step: str, total: int | None) -> None: ...
    def advance(self, step: str, label: str) -> None: ...
    def step_finished(self, record: StepRecord) -> None: ...


class _Silent:
    def step_started(self, step: str, total: int | None) -> None: ...
    def advance(self, step: str, label: str) -> None: ...
    def step_finished(self, record: StepRecord) -> None: ...


@dataclass
class RunContext:
    ws: Workspace
    run_id: str
    observer: Observer
    #: canonical name -> physical table this run built
    outputs: dict[str, str] = field(default_factory=dict)
    loads: list[LoadResult] = field(default_factory=list)


# -- steps ---------------------------------------------------------------------------------------
def step_ingest(ctx: RunContext, rec: StepRecord) -> None:
    """Load every new file in the inbox; files seen before are skipped, bad rows quarantined."""
    files = list_files([ctx.ws.inbox]) if ctx.ws.inbox.exists() else []
    ctx.observer.step_started(rec.name, len(files))
    ctx.loads = ingest_paths(ctx.ws, files, on_file=lambda f: ctx.observer.advance(rec.name, f))
    rec.rows_in = sum(r.rows_in for r in ctx.loads if r.status != "unchanged")
    rec.rows_out = sum(r.rows_loaded for r in ctx.loads)
    rec.detail = {"files": len(files), "loaded": sum(r.status == "loaded" for r in ctx.loads),
                  "unchanged": sum(r.status == "unchanged" for r in ctx.loads),
                  "failed": [f"{r.file}: {r.message}" for r in ctx.loads if r.status == "failed"],
                  "quarantined": sum(r.rows_quarantined for r in ctx.loads)}


def natural_key(t: ibis.Table, entity: Entity) -> ibis.Value:
    """One string per real-world record: the entity's key parts, else a digest of all values.

    Emails are case-folded (exports differ in the case of an address); other text keeps its
    case: "Facebook" and "facebook" rows of an analytics export are different rows until
    normalisation says otherwise. Cells were trimmed when loaded, so no trimming here (Ibis's
    strip also mistranslates on PySpark, eating a leading "f").
    """
    def text(c: str) -> ibis.Value:
        v = t[c].cast("string")
        return v.lower() if c == "email" else v

    def part(cols: tuple[str, ...]) -> ibis.Value:
        vals = [text(c) for c in cols]
        return ibis.coalesce(*vals, ibis.literal(""))

    parts = [part(p if isinstance(p, tuple) else (p,)) for p in entity.key]
    key = parts[0] if len(parts) == 1 else parts[0].concat(*[ibis.literal("|").concat(p) for p in parts[1:]])
    empty = "|".join([""] * len(parts))
    everything = ibis.literal("#").concat(*[
        ibis.coalesce(t[c.name].cast("string"), ibis.literal("")).concat(ibis.literal("|"))
        for c in entity.columns])
    return ibis.cases((key == empty, everything), else_=key)


def stage_entity(t: ibis.Table, entity: Entity) -> ibis.Table:
    """Keep one row per source system and natural key: the most recently updated, else the
    one from the latest load, else the one lowest in the file."""
    t = t.mutate(_key=natural_key(t, entity))
    order = [ibis.desc(t[entity.updated_at])] if entity.updated_at else []
    order += [ibis.desc(t._load_id), ibis.desc(t._source_row)]
    w = ibis.window(group_by=[t._source_system, t._key], order_by=order)
    return t.mutate(_rank=ibis.row_number().over(w)).filter(lambda x: x._rank == 0).drop("_rank")


def step_stage(ctx: RunContext, rec: StepRecord) -> None:
    """raw_<entity> -> stg_<entity> for this run: one row per natural key."""
    engine = ctx.ws.engine
    existing = set(engine.tables())  # one catalogue look-up, not one per entity
    present = [e for e in ENTITIES.values() if f"raw_{e.name}" in existing]
    ctx.observer.step_started(rec.name, len(present))
    for e in present:
        raw = engine.con.table(f"raw_{e.name}")
        rec.rows_in += int(raw.count().execute())
        engine.write(f"stg_{e.name}__{ctx.run_id}", stage_entity(raw, e))
        rec.rows_out += engine.count(f"stg_{e.name}__{ctx.run_id}")
        ctx.observer.advance(rec.name, e.name)


def step_canonical(ctx: RunContext, rec: StepRecord) -> None:
    """stg_<entity> -> the canonical table: ``record_key`` (system:key), the model's columns as
    loaded, custom properties and lineage. Cleaning and derived columns come in ``normalise``."""
    engine = ctx.ws.engine
    existing = set(engine.tables())
    present = [e for e in ENTITIES.values() if f"stg_{e.name}__{ctx.run_id}" in existing]
    ctx.observer.step_started(rec.name, len(present))
    for e in present:
        stg = engine.con.table(f"stg_{e.name}__{ctx.run_id}")
        rec.rows_in += int(stg.count().execute())
        key = stg._source_system.concat(ibis.literal(":"), stg._key).name("record_key")
        out = stg.select(key, *[stg[c.name] for c in e.all_columns])
        physical = f"{e.name}__{ctx.run_id}"
        engine.write(physical, out)
        ctx.outputs[e.name] = physical
        rec.rows_out += engine.count(physical)
        engine.drop(f"stg_{e.name}__{ctx.run_id}")
        ctx.observer.advance(rec.name, e.name)


def step_normalise(ctx: RunContext, rec: StepRecord) -> None:
    """Clean this run's canonical tables in place: each cleaned column ``c`` holds the clean value,
    ``c_original`` the loaded one and ``c_issue`` why it was rejected; derived columns (email flags,
    ``company_key``, ``seniority``, ``channel_group``...) are computed from the clean values.

    The detail records, per table, rows in and out and per column the rows cleaned, rejected,
    changed and filled, and the distinct values the normaliser saw.
    """
    options = CleanOptions.from_config(ctx.ws.config)
    present = [e for e in ENTITIES.values() if e.name in ctx.outputs and cleanable(e)]
    ctx.observer.step_started(rec.name, len(present))
    with normalise_cache.using(ctx.ws.engine):  # values seen by earlier runs are not normalised again
        for e in present:
            report = clean_table(ctx.ws.engine, ctx.outputs[e.name], e, options, tag=ctx.run_id)
            rec.rows_in += report.rows_in
            rec.rows_out += report.rows_out
            rec.detail[e.name] = report.to_json()
            ctx.observer.advance(rec.name, e.name)


Step = Callable[[RunContext, StepRecord], None]
STEPS: list[tuple[str, Step]] = [
    ("ingest", step_ingest), ("privacy", step_privacy), ("stage", step_stage), ("canonical", step_canonical),
    ("normalise", step_normalise),
    ("resolve", step_resolve), ("accounts", step_accounts), ("golden", step_golden), ("stitch", step_stitch),
    ("utm", step_utm), ("quality", step_quality), ("score", step_score), ("lead_stages", step_lead_stages),
    ("consent", step_consent),
]


# -- running -------------------------------------------------------------------------------------
def new_run_id() -> str:
    # Sortable, and a valid part of a table name on every engine.
    return "r" + datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(2)


def _save(ws: Workspace, run: RunRecord) -> None:
    ws.runs_dir.mkdir(parents=True, exist_ok=True)
    path = ws.runs_dir / f"{run.run_id}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(run.to_json(), indent=2, default=str))
    tmp.replace(path)


def run_pipeline(ws: Workspace, *, steps: list[str] | None = None, observer: Observer | None = None,
                 raise_on_error: bool = False, run_id: str | None = None) -> RunRecord:
    """Run the pipeline (all steps, or the named ones in pipeline order) and publish on success.

    Bad input never fails a run: it is quarantined and reported in the ingest step's detail. A
    step that fails (an engine error, a bug) fails the run; nothing is published then.
    ``run_id`` (from :func:`new_run_id`) lets a caller name the run before it starts, so a
    run started in the background can be followed at once.
    """
    observer = observer or _Silent()
    chosen = [(n, f) for n, f in STEPS if steps is None or n in steps]
    unknown = set(steps or []) - {n for n, _ in STEPS}
    if unknown:
        raise unknown_name("step", sorted(unknown)[0], [n for n, _ in STEPS])
    run = RunRecord(run_id=run_id or new_run_id(), status="running", started_at=datetime.now(UTC),
                    steps=[StepRecord(n) for n, _ in chosen], engine=ws.engine_name)
    _save(ws, run)
    ctx = RunContext(ws, run.run_id, observer)
    for rec, (name, fn) in zip(run.steps, chosen):
        rec.status = "running"
        started = time.perf_counter()
        try:
            fn(ctx, rec)
        except Exception as e:  # a failed step must be recorded whatever went wrong
            rec.status, rec.seconds = "failed", round(time.perf_counter() - started, 3)
            rec.error = str(e) if isinstance(e, MarketopsError) else f"{type(e).__name__}: {e}"
            run.status, run.error, run.finished_at = "failed", f"step '{name}' failed: {rec.error}", datetime.now(UTC)
            if not isinstance(e, MarketopsError):
                rec.detail["traceback"] = traceback.format_exc(limit=8)
            observer.step_finished(rec)
            _discard(ws, run.run_id)
            _save(ws, run)
            if raise_on_error:
                raise StepFailed(name, run.run_id, e) from e
            return run
        rec.status, rec.seconds = "succeeded", round(time.perf_counter() - started, 3)
        observer.step_finished(rec)
        _save(ws, run)
    if ctx.outputs:
        ws.engine.publish(ctx.outputs, run.run_id)
    run.status, run.finished_at = "succeeded", datetime.now(UTC)
    _save(ws, run)
    # every goal is measured on the data just published; a goal that cannot be measured is recorded
    # as no_data and never fails the run (see marketops.plan.progress)
    from marketops.plan.progress import measure_after_run

    run.after["goals"] = measure_after_run(ws, run.run_id)
    # new MQLs get an owner (leads.routing.auto); like goals, routing never fails the run
    from marketops.leads.routing_run import route_after_run

    run.after["routing"] = route_after_run(ws, run.run_id)
    _save(ws, run)
    return run


def _discard(ws: Workspace, run_id: str) -> None:
    """Drop the tables a failed run built; the published ones are untouched."""
    for name in ws.engine.tables():
        if name.endswith(f"__{run_id}"):
            ws.engine.drop(name)


def list_runs(ws: Workspace, limit: int = 10) -> list[RunRecord]:
    """Recent runs, newest first."""
    if not ws.runs_dir.exists():
        return []
    files = sorted(ws.runs_dir.glob("r*.json"), reverse=True)[:limit]
    return [RunRecord.from_json(json.loads(f.read_text())) for f in files]


def get_run(ws: Workspace, run_id: str) -> RunRecord:
    path = ws.runs_dir / f"{run_id}.json"
    if not path.exists():
        raise unknown_name("run", run_id, [p.stem for p in ws.runs_dir.glob("r*.json")])
    return RunRecord.from_json(json.loads(path.read_text()))
