"""People: ``/people`` (search), ``/people/{person_id}`` (one person: golden record, source
records, identity evidence, journey), and the same as JSON under ``/api/v1/people``.

Any signed-in user may read (tokens: ``read``). Search results download as CSV or XLSX with
``?format=`` on the API endpoint.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from marketops.app.deps import Reader, read_workspace
from marketops.app.downloads import Format, Limit, Offset, download, page_json
from marketops.app.people import MAX_QUERY, SearchIndex, person_detail, search_index, search_people
from marketops.app.render import render
from marketops.app.routes.metrics import cached_analysis
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
def person_page(request: Request, user: Reader, person_id: str) -> Response:
    with read_workspace(request) as ws:
        person = person_detail(ws, person_id)
    return render(request, "person.html", {"p": person})


@router.get("/api/v1/people", response_model=None)
def people_api(request: Request, user: Reader, q: Search = "", limit: Limit = PAGE_SIZE, offset: Offset = 0,
               format: Format = "json") -> dict | Response:
    """People whose email, name, company or phone contains ``q``; newest first; paged."""
    with read_workspace(request) as ws:
        page = search_people(ws, q, limit=limit, offset=offset, index=_index(request, ws))
    if format != "json":
        return download(page.items, "people", format)
    return page_json(page.items, page.total, limit, offset, q=q.strip(), ready=page.ready)


@router.get("/api/v1/people/{person_id}")
def person_api(request: Request, user: Reader, person_id: str) -> dict:
    """One person: golden record with the source of each value, source records, identity evidence,
    timeline (oldest first) and deals."""
    with read_workspace(request) as ws:
        return person_detail(ws, person_id).to_json()
