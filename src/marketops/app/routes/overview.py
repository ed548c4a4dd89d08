"""The overview: ``GET /`` (page) and ``GET /api/v1/overview`` (the same facts as JSON)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from marketops.app.deps import CurrentUser, require_scope
from marketops.app.overview import build_overview, overview_json
from marketops.app.render import render
from marketops.state.models import User

router = APIRouter()


@router.get("/")
async def overview_page(request: Request, user: CurrentUser) -> Response:
    # DuckDB work blocks: keep it off the event loop.
    data = await run_in_threadpool(build_overview, request.app.state.workspace_root)
    return render(request, "overview.html", {"o": data})


@router.get("/api/v1/overview")
async def overview_api(request: Request, user: Annotated[User, Depends(require_scope("read"))]) -> dict:
    """Workspace, last run, rows per canonical table, quarantined rows, recent loads and runs."""
    data = await run_in_threadpool(build_overview, request.app.state.workspace_root)
    return overview_json(data)
