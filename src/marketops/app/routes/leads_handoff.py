"""Lifecycle, the MQL/SQL definitions and the quality of the handoff.

Pages: ``GET /leads/handoff`` (MQL -> SQL -> opportunity -> won by source, channel or campaign as a table
and a chart, recycled and rejected leads with reasons, the definitions in words) and
``GET /leads/{person_id}/stages`` (a person's stage timeline). API:

- ``GET /api/v1/leads/definitions``: the MQL and SQL definitions in words and as configured;
- ``GET /api/v1/leads/handoff?by=source|channel|campaign``: the rates (``format=csv|xlsx``);
- ``GET /api/v1/leads/rejected``: recycled and rejected leads: counts by reason and channel and the list
  (``format=csv|xlsx&table=reasons|channels|leads``);
- ``GET /api/v1/leads/{person_id}/stages``: a person's stage history (email works too; ``format=csv|xlsx``).

Everyone signed in reads; the definitions are changed in marketops.yaml only. Results are cached until
the next run or a change of marketops.yaml.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from marketops.app.charts import bar_chart, figure_json
from marketops.app.deps import Reader
from marketops.app.downloads import Format
from marketops.app.render import N_, TEMPLATES, render, workspace_config
from marketops.app.routes.metrics import analysis, file_of, gettext
from marketops.errors import MarketopsError, ValidationFailed
from marketops.leads.handoff import BY, OUTCOME_COLUMNS, RATE_COLUMNS, check_by, handoff, lead_quality, outcomes
from marketops.leads.qualification import definitions
from marketops.leads.stage_history import EVENT_COLUMNS, person_history
from marketops.workspace import Workspace

router = APIRouter()

ByQ = Annotated[str, Query(description="source (the CRM's lead source), channel or campaign (of the first touch).")]
SinceQ = Annotated[dt.date | None, Query(description="Only MQLs (outcomes) from this day on (YYYY-MM-DD).")]
UntilQ = Annotated[dt.date | None, Query(description="Only MQLs up to this day (YYYY-MM-DD).")]
BY_LABELS = {"source": N_("Lead source"), "channel": N_("Channel"), "campaign": N_("Campaign")}
REASON_COLUMNS = ["outcome", "reason", "leads", "mqls"]
CHANNEL_COLUMNS = ["outcome", "channel_group", "leads", "mqls"]
LIST_LIMIT = 100


def _handoff(ws: Workspace, *, by: str, since: dt.date | None, until: dt.date | None) -> Any:
    return handoff(ws, by, since=since, until=until)


def _outcomes(ws: Workspace, *, outcome: str | None, since: dt.date | None) -> Any:
    return outcomes(ws, outcome=outcome, since=since)


def _definitions(ws: Workspace) -> dict[str, Any]:
    return definitions(ws.config)


def _history(ws: Workspace, *, who: str) -> Any:
    return person_history(ws, who)


def handoff_for(request: Request, by: str, since: dt.date | None = None, until: dt.date | None = None) -> Any:
    try:
        check_by(by)
    except ValidationFailed as e:
        from starlette.exceptions import HTTPException

        raise HTTPException(400, e.message) from None
    return analysis(request, "leads_handoff", _handoff, by=by, since=since, until=until)


def lead_quality_card(request: Request) -> dict[str, Any]:
    """Lead quality by channel for the overview, computed once per run (cached)."""
    return analysis(request, "leads_quality", _quality)


def _quality(ws: Workspace) -> dict[str, Any]:
    return lead_quality(ws)


def _definitions_of(request: Request) -> dict[str, Any]:
    """The definitions in words from the request's marketops.yaml (no warehouse read)."""
    return definitions(workspace_config(request))


def _stage_history_of(request: Request, person_id: str) -> Any:
    """A person's stage history for a page that shows it in passing: None when it cannot be read."""
    try:
        return analysis(request, "leads_stages", _history, who=person_id)
    except MarketopsError:
        return None


# the lead pages of other routers show the definitions and a person's stages through these
TEMPLATES.env.globals.update(lead_definitions=_definitions_of, lead_stage_history=_stage_history_of)


# -- pages --------------------------------------------------------------------------------------------------

@router.get("/leads/handoff")
def handoff_page(request: Request, user: Reader, by: ByQ = "channel", since: SinceQ = None,
                 until: UntilQ = None) -> Response:
    data = handoff_for(request, by, since, until)
    rejected = analysis(request, "leads_outcomes", _outcomes, outcome=None, since=since)
    t = gettext(request)
    key = BY[by]
    top = data.items[:15]
    fig = figure_json(bar_chart([r[key] for r in top], {
        t("MQL to SQL"): [None if r["sql_rate"] is None else r["sql_rate"] * 100 for r in top],
        t("MQL to won"): [None if r["mql_to_won"] is None else r["mql_to_won"] * 100 for r in top]},
        y_title=t("Share of MQLs"), percent=True)) if top else None
    query = "&".join(f"{k}={v}" for k, v in (("since", since), ("until", until)) if v)
    return render(request, "leads_handoff.html", {
        "data": data, "key": key, "by": by, "by_labels": BY_LABELS, "fig": fig, "charts": bool(fig),
        "rejected": rejected, "rejected_items": rejected.items[:LIST_LIMIT], "list_limit": LIST_LIMIT,
        "defs": analysis(request, "leads_definitions", _definitions),
        "filters": {"since": since, "until": until}, "amp": ("&" + query) if query else ""})


@router.get("/leads/{person_id}/stages")
def stages_page(request: Request, user: Reader, person_id: str) -> Response:
    history = analysis(request, "leads_stages", _history, who=person_id)
    return render(request, "leads_stages.html", {"h": history,
                                                 "defs": analysis(request, "leads_definitions", _definitions)})


# -- API ----------------------------------------------------------------------------------------------------

@router.get("/api/v1/leads/definitions", response_model=None)
def definitions_api(request: Request, user: Reader) -> Any:
    """The MQL and SQL definitions: ``{"mql": {"words", "description", "clauses": [{"label", "words"}],
    "config"}, "sql": {...}, "stages", "outcomes", "configured_in"}``. Change them in marketops.yaml
    (``leads.lifecycle``)."""
    return analysis(request, "leads_definitions", _definitions)


@router.get("/api/v1/leads/handoff", response_model=None)
def handoff_api(request: Request, user: Reader, by: ByQ = "channel", since: SinceQ = None, until: UntilQ = None,
                format: Format = "json") -> Any:
    """MQL -> SQL -> opportunity -> won per group of ``by``: ``{"by", "items": [{<group>, "mqls", "sqls",
    "opportunities", "won", "sql_rate", "opportunity_rate", "won_rate", "mql_to_won", "days_to_sql",
    "days_to_opportunity", "days_to_won"}], "total": {...}, "ready"}``. Rates are shares (0.25 = 25 %)
    of the previous step; days are medians."""
    data = handoff_for(request, by, since, until)
    if format != "json":
        return file_of(data.items, [BY[by], *RATE_COLUMNS], f"handoff_by_{by}", format)
    return data.to_json()


@router.get("/api/v1/leads/rejected", response_model=None)
def rejected_api(request: Request, user: Reader,
                 outcome: Annotated[str | None, Query(description="recycled or rejected (default: both).")] = None,
                 since: SinceQ = None,
                 table: Annotated[Literal["reasons", "channels", "leads"],
                                  Query(description="With format=csv|xlsx: reasons, channels or leads.")] = "leads",
                 format: Format = "json") -> Any:
    """Recycled and rejected leads: ``{"by_reason": [{"outcome", "reason", "leads", "mqls"}], "by_channel":
    [...], "items": [the leads, newest first], "total"}``."""
    data = analysis(request, "leads_outcomes", _outcomes, outcome=outcome or None, since=since)
    if format != "json":
        if table == "reasons":
            return file_of(data.by_reason, REASON_COLUMNS, "leads_outcome_reasons", format)
        if table == "channels":
            return file_of(data.by_channel, CHANNEL_COLUMNS, "leads_outcome_channels", format)
        return file_of(data.items, list(OUTCOME_COLUMNS), "leads_recycled_rejected", format)
    return data.to_json()


@router.get("/api/v1/leads/{person_id}/stages", response_model=None)
def stages_api(request: Request, user: Reader, person_id: str, format: Format = "json") -> Any:
    """A person's stage history (person id or email): ``{"kind", "subject", "stage", "stage_at", "events":
    [{"stage", "entered_at", "exited_at", "reason", "origin", "crm_stage"}], "reached": [{"stage", "at"}]}``;
    events with origin ``definition`` are the moments the MQL and SQL definitions first held."""
    history = analysis(request, "leads_stages", _history, who=person_id)
    if format != "json":
        return file_of(history.events, list(EVENT_COLUMNS), f"lead_stages_{history.subject['person_id']}", format)
    return history.to_json()
