"""From the warehouse to journeys: touchpoints with their person, conversions by the workspace's
definitions, and the lead and opportunity milestones the W-shaped model needs.

A journey belongs to a person (identity resolution's ``person_id``; anonymous sessions of a visitor
who later logged in were stitched to that person), else to an anonymous visitor (``anonymous_id``,
e.g. GA's client id): a visitor who converted without ever identifying is attributed on their own
visits. Rows with neither are counted in ``Journeys.without_person``. A touchpoint is *direct* when its
channel group is Direct. The lead-creation touch is a person's last touch at or before they
first became a lead (lifecycle stages); the opportunity-creation touch, the last at or before
their first deal was created. Revenue is converted into the reporting currency with the
workspace's ``exchange_rates`` (the latest rate on or before the conversion's day).

Example:
    >>> import tempfile, pathlib
    >>> from marketops.workspace import Workspace
    >>> from marketops.pipeline import run_pipeline
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
    >>> _ = (ws.inbox / "contacts.csv").write_text("Email,First Name\\nann@acme-analytics.com,Ann\\n")
    >>> _ = (ws.inbox / "visits.csv").write_text("Event ID,Timestamp,Email,UTM Source,UTM Medium\\n"
    ...     "e1,2024-01-01T10:00:00Z,ann@acme-analytics.com,google,cpc\\n")
    >>> _ = (ws.inbox / "orders.csv").write_text("Conversion ID,Timestamp,Conversion Type,Email,Value,Currency\\n"
    ...     "o1,2024-01-02T10:00:00Z,purchase,ann@acme-analytics.com,120.50,EUR\\n")
    >>> run_pipeline(ws).status
    'succeeded'
    >>> j = workspace_journeys(ws, AttributionConfig())
    >>> j.channels, j.conversions, j.revenue_cents
    (['Paid Search'], 1, 12050)
    >>> ws.close()
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import ibis
import polars as pl

from marketops.attribution.config import (
    CONVERSION_TABLES,
    DIMENSIONS,
    MONEY_COLUMNS,
    AttributionConfig,
    ConversionDefinition,
)
from marketops.attribution.journeys import Journeys, build_journeys
from marketops.errors import NotFound, unknown_name
from marketops.lifecycle import canonical_stages, stage_key_column, stage_spellings
from marketops.metrics.query import Rates, engine_rates
from marketops.workspace import Workspace


def workspace_journeys(ws: Workspace, config: AttributionConfig, *, by: str = "channel",
                       conversion: str | None = None) -> Journeys:
    """The journeys of the workspace's last good run, attributed ``by`` channel, source or campaign;
    ``conversion`` limits them to one definition (by name)."""
    definitions = config.conversions
    if conversion is not None:
        definitions = [d for d in definitions if d.name == conversion]
        if not definitions:
            raise unknown_name("conversion", conversion, [d.name for d in config.conversions])
    return journeys_for(ws, config, [definitions], by=by)[0]


def journeys_for(ws: Workspace, config: AttributionConfig, definition_sets: list[list[ConversionDefinition]],
                 *, by: str = "channel") -> list[Journeys]:
    """One :class:`Journeys` per list of conversion definitions, over touchpoints read once (a report
    that credits leads, pipeline and revenue attributes three sets of conversions)."""
    if by not in DIMENSIONS:
        raise unknown_name("attribution dimension", by, DIMENSIONS)
    touches = _touches(ws, config, DIMENSIONS[by])
    rates = Rates(engine_rates(ws.engine), ws.config.reporting_currency)
    out = []
    for definitions in definition_sets:
        journeys = build_journeys(touches, pl.concat([_conversions(ws, d, rates) for d in definitions], how="vertical"),
                                  lookback_days=config.lookback_days, direct=config.direct)
        missing = sum(_without_person(ws, d) for d in definitions)
        out.append(dataclasses.replace(journeys, without_person=missing))
    return out


def _without_person(ws: Workspace, d: ConversionDefinition) -> int:
    """Rows the definition matches that have neither a person nor a visitor id."""
    if not ws.engine.has_table(d.table):
        return 0
    t = _matching(ws.table(d.table), d)
    if "person_id" not in t.columns:
        return int(t.count().execute())
    return int(t.filter(journey_key(t).isnull() & t[d.at or CONVERSION_TABLES[d.table]].notnull()).count().execute())


def journey_key(t: ibis.Table) -> ibis.StringValue:
    """Whose journey a row belongs to: the person, else the anonymous visitor (a conversion by a
    visitor who never identified still has that visitor's visits before it, as in GA4)."""
    person = t.person_id.cast("string")
    if "anonymous_id" not in t.columns:
        return person
    visitor = ibis.literal("visitor:").concat(t.anonymous_id.cast("string"))
    return ibis.coalesce(person, ibis.ifelse(t.anonymous_id.isnull(), ibis.null("string"), visitor))


def _matching(t: ibis.Table, d: ConversionDefinition) -> ibis.Table:
    for column, wanted in d.match.items():
        if column not in t.columns:
            raise unknown_name(f"column of {d.table} (conversion {d.name!r})", column, t.columns)
        t = t.filter(_matches(t[column], wanted, stages=d.table == "lifecycle_stages" and column == "stage"))
    return t


def _touches(ws: Workspace, config: AttributionConfig, column: str) -> pl.DataFrame:
    if not ws.engine.has_table("touchpoints"):
        raise NotFound("no touchpoints yet", hint="load web events or ad clicks and `marketops run`")
    t = ws.table("touchpoints")
    if "person_id" not in t.columns:
        raise NotFound("touchpoints have no person yet: identity resolution needs people records",
                       hint="load a CRM or form export of people and `marketops run`")
    t = t.mutate(_key=journey_key(t))
    t = t.filter(t._key.notnull() & t.occurred_at.notnull())
    if config.touchpoint_types:
        t = t.filter(t.type.isin(config.touchpoint_types))
    frame = pl.from_arrow(t.select(
        person_id=t._key, occurred_at=t.occurred_at,
        channel=ibis.coalesce(t[column].cast("string"), ibis.literal("(not set)")),
        is_direct=ibis.coalesce(t.channel_group == "Direct", ibis.literal(False))).to_pyarrow())
    frame = frame.sort("person_id", "occurred_at", "channel").with_row_index("_i")
    return frame.with_columns(is_lead_created=_last_touch_before(frame, _lead_times(ws)),
                              is_opportunity_created=_last_touch_before(frame, _opportunity_times(ws))).drop("_i")


def _last_touch_before(touches: pl.DataFrame, milestones: pl.DataFrame | None) -> pl.Expr:
    """True on each person's last touch at or before their milestone."""
    if milestones is None or milestones.height == 0:
        return pl.lit(False)
    hits = (touches.join(milestones, on="person_id", how="inner")
            .filter(pl.col("occurred_at") <= pl.col("at"))
            .group_by("person_id").agg(pl.col("_i").max()))
    return pl.col("_i").is_in(hits["_i"].implode())


def _lead_times(ws: Workspace) -> pl.DataFrame | None:
    if not ws.engine.has_table("lifecycle_stages"):
        return None
    t = ws.table("lifecycle_stages")
    rows = pl.from_arrow(t.filter(t.person_id.notnull()).select("person_id", "stage", "entered_at").to_pyarrow())
    rows = rows.filter(canonical_stages(rows["stage"]) == "lead")
    return rows.group_by("person_id").agg(pl.col("entered_at").min().alias("at"))


def _opportunity_times(ws: Workspace) -> pl.DataFrame | None:
    if not ws.engine.has_table("opportunities"):
        return None
    t = ws.table("opportunities")
    t = t.filter(t.person_id.notnull() & t.created_at.notnull())
    return pl.from_arrow(t.group_by("person_id").aggregate(at=t.created_at.min()).to_pyarrow())


def _conversions(ws: Workspace, d: ConversionDefinition, rates: Rates) -> pl.DataFrame:
    empty = pl.DataFrame(schema={"person_id": pl.String, "conversion_id": pl.String,
                                 "converted_at": pl.Datetime("us"), "revenue": pl.String})
    if not ws.engine.has_table(d.table):
        return empty
    t = ws.table(d.table)
    if "person_id" not in t.columns:
        return empty
    when = d.at or CONVERSION_TABLES[d.table]
    if when not in t.columns:
        raise unknown_name(f"time column of {d.table} (conversion {d.name!r})", when, t.columns)
    t = t.mutate(_key=journey_key(t))
    t = _matching(t.filter(t._key.notnull() & t[when].notnull()), d)
    money = MONEY_COLUMNS.get(d.table) if d.revenue else None
    cols = {"person_id": t._key, "conversion_id": ibis.literal(f"{d.name}:").concat(t.record_key),
            "converted_at": t[when]}
    if money:
        cols |= {"_amount": t[money[0]], "_currency": t[money[1]]}
    frame = pl.from_arrow(t.select(**cols).to_pyarrow())
    if frame.height == 0:
        return empty
    if d.first_only:
        frame = frame.sort("converted_at", "conversion_id").unique("person_id", keep="first", maintain_order=True)
    if money:
        revenue = [None if a is None else str(rates.convert(Decimal(a), c, w.date() if isinstance(w, dt.datetime) else w))
                   for a, c, w in zip(frame["_amount"].to_list(), frame["_currency"].to_list(),
                                      frame["converted_at"].to_list())]
        frame = frame.drop("_amount", "_currency").with_columns(revenue=pl.Series(revenue, dtype=pl.String))
    else:
        frame = frame.with_columns(revenue=pl.lit(None, dtype=pl.String))
    return frame.with_columns(pl.col("converted_at").cast(pl.Datetime("us")))


def _matches(column: ibis.Value, wanted: str | list[str] | bool, *, stages: bool) -> ibis.BooleanValue:
    if isinstance(wanted, bool):
        return column == wanted
    values = [wanted] if isinstance(wanted, str) else wanted
    if stages:  # "mql" matches "Marketing Qualified Lead": the funnel's spellings
        return stage_key_column(column).isin(stage_spellings(values))
    return column.cast("string").lower().isin([v.lower() for v in values])
