"""People: ``/people`` (search), ``/people/{person_id}`` (one person: golden record, source
records, identity evidence, journey), and the same as JSON under ``/api/v1/people``.

Any signed-in user may read (tokens: ``read``). Search results download as CSV or XLSX with
``?format=`` on the API endpoint.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from marketops.app.deps import DB, Reader, read_workspace
from marketops.app.downloads import Format, Limit, Offset, download, page_json
from marketops.app.errors import api_error
from marketops.app.people import (
    MAX_QUERY,
    PersonDetail,
    SearchIndex,
    person_detail,
    search_index,
    search_people,
)
from marketops.app.render import render
from marketops.app.routes.metrics import cached_analysis, file_of
from marketops.workspace import Workspace

router = APIRouter()


def _index(request: Request, ws: Workspace) -> SearchIndex | None:
    """The search index of the published people, built once per run (None before any run)."""
    if not ws.engine.has_table("golden_people"):
        return None
    return cached_analysis(request.app, "people_index", search_index)

Search = Annotated[str, Query(max_length=MAX_QUERY, description="Part of an email, name, company or phone.")]
PAGE_SIZE = 50


# Plain `def` routes: DuckDB blocks, so FastAPI runs them in its thread pool.
@router.get("/people")
def people_page(request: Request, user: Reader, q: Search = "", limit: Limit = PAGE_SIZE,
                offset: Offset = 0) -> Response:
    with read_workspace(request) as ws:
        page = search_people(ws, q, limit=limit, offset=offset, index=_index(request, ws))
    return render(request, "people.html", {"page": page, "q": q.strip(), "limit": limit, "offset": offset})


@router.get("/people/{person_id}")
def person_page(request: Request, user: Reader, db: DB, person_id: str) -> Response:
    from marketops.privacy.person_export import person_consent
    from marketops.privacy.suppression import SuppressionMatcher

    with read_workspace(request) as ws:
        person = person_detail(ws, person_id)
        consent = person_consent(ws, db, {person_id})
    matcher = SuppressionMatcher.load(db)
    suppressed = any(matcher.suppressed(s.get("email")) for s in person.sources)
    return render(request, "person.html", {"p": person, "consent": consent, "suppressed": suppressed})


@router.get("/api/v1/people", response_model=None)
def people_api(request: Request, user: Reader, q: Search = "", limit: Limit = PAGE_SIZE, offset: Offset = 0,
               format: Format = "json") -> dict | Response:
    """People whose email, name, company or phone contains ``q``; newest first; paged (a CSV/XLSX
    download holds every match)."""
    every = format != "json"
    with read_workspace(request) as ws:
        page = search_people(ws, q, limit=None if every else limit, offset=0 if every else offset,
                             index=_index(request, ws))
    if format != "json":
        from marketops.privacy.suppression import without_suppressed  # suppressed people never leave in a file

        privacy = ws.config.privacy.suppression
        rows = without_suppressed(request.app.state.database_url, page.items,
                                  include_domains=privacy.include_domains) if privacy.apply_to_downloads else page.items
        return download(rows, "people", format)
    return page_json(page.items, page.total, limit, offset, q=q.strip(), ready=page.ready)


#: The person page's tables as files: their columns, in order.
PERSON_TABLES = {
    "sources": ["record_key", "source_system", "source_file", "source_row", "name", "email", "first_name",
                "last_name", "phone", "company", "job_title", "country", "lifecycle_stage", "created_at",
                "updated_at", "account_match", "match_rule", "match_probability", "issues"],
    "timeline": ["at", "kind", "title", "channel", "detail", "amount", "currency", "source_system", "record_key"],
    "deals": ["record_key", "name", "stage", "amount", "currency", "created_at", "closed_at", "is_won", "is_closed",
              "owner", "source_system"],
}
PersonTable = Annotated[Literal["sources", "timeline", "deals"] | None,
                        Query(description="With format=csv|xlsx: sources, timeline or deals.")]


def _exact(amount: Any) -> Any:
    # one column may hold conversion values (floats) and deal amounts (decimals): make them one type
    return Decimal(str(amount)) if isinstance(amount, float) and math.isfinite(amount) else amount


def person_rows(person: PersonDetail, table: str) -> list[dict[str, Any]]:
    """The rows of one of the person page's tables (``sources``, ``timeline`` or ``deals``), flat:
    the ``_source_*`` columns lose their underscore, a source record's issues become one text cell."""
    columns = PERSON_TABLES[table]
    if table == "timeline":
        records = [{**asdict(e), "amount": _exact(e.amount)} for e in person.timeline]
    elif table == "deals":
        records = [{**d, "source_system": d.get("_source_system"), "amount": _exact(d.get("amount"))}
                   for d in person.deals]
    else:
        records = [{**r, **{k.lstrip("_"): r.get(k) for k in ("_source_system", "_source_file", "_source_row")},
                    "issues": "; ".join(f"{i['column']} \"{i['value']}\": {i['reason']}" for i in r.get("issues", []))}
                   for r in person.sources]
    return [{c: r.get(c) for c in columns} for r in records]


@router.get("/api/v1/people/{person_id}", response_model=None)
def person_api(request: Request, user: Reader, person_id: str, table: PersonTable = None,
               format: Format = "json") -> dict | Response:
    """One person: golden record with the source of each value, source records, identity evidence,
    timeline (oldest first) and deals. ``?table=sources|timeline|deals&format=csv|xlsx`` downloads one
    of the page's tables."""
    with read_workspace(request) as ws:
        person = person_detail(ws, person_id)
    if format == "json":
        return person.to_json()
    if table is None:
        return api_error(400, "say which table to download: table=sources, timeline or deals")
    return file_of(person_rows(person, table), PERSON_TABLES[table], f"person_{person_id}_{table}", format)
