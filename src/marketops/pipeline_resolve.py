"""The pipeline steps after cleaning: one person per human, accounts, golden records, stitched
events, and the data-quality scorecard of the run.

=============  =====================================================================================
``resolve``    people source records -> ``person_id`` (identifiers, Splink, reviewers' decisions);
               writes ``identity_map`` and ``identity_pairs`` (the review queue's candidates)
``accounts``   companies -> ``account_id`` by domain and name; ``account_map``, ``golden_accounts``
``golden``     one golden record per person by the survivorship rules: ``golden_people``
``stitch``     ``person_id`` onto touchpoints, conversions, opportunities and lifecycle stages
``quality``    the scorecard per source and column; a breached ``fail`` threshold fails the run
=============  =====================================================================================

Each step rewrites or adds tables of the run (``ctx.outputs``); nothing is visible to readers
until the whole run succeeds. Steps whose inputs are missing (no people loaded yet) do nothing.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from marketops.errors import QualityGateFailed
from marketops.quality.accounts import golden_accounts, resolve_accounts, with_account_ids
from marketops.quality.identity import resolve_people
from marketops.quality.review import load_decisions
from marketops.quality.scorecard import compute_scorecard
from marketops.quality.scorecard_history import save_scorecard
from marketops.quality.scorecard_thresholds import evaluate
from marketops.quality.stitching import STITCHED_TABLES, ambiguous_visitors, stitch, stitch_counts, visitor_links
from marketops.quality.survivorship import golden_people

if TYPE_CHECKING:
    from marketops.pipeline import RunContext, StepRecord


def _physical(ctx: RunContext, name: str) -> str:
    """The run's physical name for a table, registered so that it is published with the run."""
    ctx.outputs[name] = f"{name}__{ctx.run_id}"
    return ctx.outputs[name]


def step_resolve(ctx: RunContext, rec: StepRecord) -> None:
    """Resolve people into persons and give every people record its ``person_id``.

    Reviewers' merge decisions (app database) are read at every run, so an accepted or rejected
    pair, or a split, takes effect here.
    """
    engine, out = ctx.ws.engine, ctx.outputs
    if "people" not in out:
        return
    ctx.observer.step_started(rec.name, 2)
    result = resolve_people(engine, out["people"], ctx.ws.config.identity, decisions=load_decisions(ctx.ws),
                            map_table=_physical(ctx, "identity_map"), pairs_table=_physical(ctx, "identity_pairs"))
    ctx.observer.advance(rec.name, "identity_map")
    people = engine.con.table(out["people"])
    imap = engine.con.table(out["identity_map"]).select("record_key", "person_id").view()
    engine.write(out["people"], people.left_join(imap, "record_key").select(*people.columns, imap.person_id))
    ctx.observer.advance(rec.name, "people")
    rec.rows_in, rec.rows_out = result.records, result.persons
    rec.detail = result.to_json()


def step_accounts(ctx: RunContext, rec: StepRecord) -> None:
    """Companies become accounts: ``account_map``, ``account_id`` on people, ``golden_accounts``."""
    engine, out = ctx.ws.engine, ctx.outputs
    if "people" not in out:
        return
    ctx.observer.step_started(rec.name, 3)
    people = engine.con.table(out["people"])
    accounts = engine.con.table(out["accounts"]) if "accounts" in out else None
    rec.rows_in = engine.count(out["people"]) + (engine.count(out["accounts"]) if accounts is not None else 0)
    res = resolve_accounts(accounts, people)
    engine.write(_physical(ctx, "account_map"), res.account_map)
    ctx.observer.advance(rec.name, "account_map")
    engine.write(_physical(ctx, "golden_accounts"),
                 golden_accounts(accounts, people, res, ctx.ws.config.survivorship))
    ctx.observer.advance(rec.name, "golden_accounts")
    engine.write(out["people"], with_account_ids(people, res))
    ctx.observer.advance(rec.name, "people")
    rec.rows_out = engine.count(out["golden_accounts"])
    by_route = (engine.con.table(out["people"]).group_by("account_match")
                .aggregate(n=lambda t: t.count()).to_pyarrow().to_pylist())
    rec.detail = {"accounts": rec.rows_out, "people_by": {r["account_match"] or "none": r["n"] for r in by_route}}


def step_golden(ctx: RunContext, rec: StepRecord) -> None:
    """One golden record per person, by the survivorship rules of marketops.yaml."""
    engine, out = ctx.ws.engine, ctx.outputs
    if "identity_map" not in out:
        return
    ctx.observer.step_started(rec.name, 1)
    golden = golden_people(engine.con.table(out["people"]), engine.con.table(out["identity_map"]),
                           ctx.ws.config.survivorship)
    engine.write(_physical(ctx, "golden_people"), golden)
    rec.rows_in, rec.rows_out = engine.count(out["people"]), engine.count(out["golden_people"])
    ctx.observer.advance(rec.name, "golden_people")


def step_stitch(ctx: RunContext, rec: StepRecord) -> None:
    """``person_id`` and ``person_match`` onto the event tables: by record id, email, user id or
    anonymous visitor id (a visitor seen with two people is left unassigned and counted)."""
    engine, out = ctx.ws.engine, ctx.outputs
    if "identity_map" not in out:
        return
    present = [n for n in STITCHED_TABLES if n in out]
    ctx.observer.step_started(rec.name, len(present) + 1)
    imap = engine.con.table(out["identity_map"])
    events = {n: engine.con.table(out[n]) for n in present}
    engine.write(_physical(ctx, "visitor_links"), visitor_links(events, imap, engine.con.table(out["people"])))
    visitors = engine.con.table(out["visitor_links"])
    rec.detail["ambiguous_visitors"] = ambiguous_visitors(visitors)
    ctx.observer.advance(rec.name, "visitor_links")
    for name in present:
        engine.write(out[name], stitch(engine.con.table(out[name]), imap, visitors))
        counts = stitch_counts(engine.con.table(out[name]))
        rec.rows_in += counts.rows
        rec.rows_out += counts.stitched
        rec.detail[name] = {**asdict(counts), "stitched": counts.stitched}
        ctx.observer.advance(rec.name, name)


def step_quality(ctx: RunContext, rec: StepRecord) -> None:
    """Score the run's tables; a breached ``fail`` threshold fails the run (nothing is published).

    The scorecard is saved before the verdict, so ``marketops quality`` can explain a failed run.
    """
    engine, config = ctx.ws.engine, ctx.ws.config.quality
    ctx.observer.step_started(rec.name, 1)
    card = compute_scorecard(engine, dict(ctx.outputs), run_id=ctx.run_id, now=datetime.now(UTC), config=config)
    breaches = evaluate(card, config)
    save_scorecard(ctx.ws, card, breaches)
    engine.write(_physical(ctx, "quality_scorecard"), card.to_arrow())
    ctx.observer.advance(rec.name, "quality_scorecard")
    rec.rows_in, rec.rows_out = len(ctx.outputs) - 1, len(card.rows)
    rec.detail = {"findings": len(card.findings),
                  "warnings": [b.message for b in breaches if b.action == "warn"]}
    failed = [b.message for b in breaches if b.action == "fail"]
    if failed:
        raise QualityGateFailed(f"{len(failed)} data-quality threshold(s) failed: {'; '.join(failed[:3])}",
                                hint="see `marketops quality`; thresholds are under `quality:` in marketops.yaml")
