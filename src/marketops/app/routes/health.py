"""``GET /health``: for load balancers and uptime checks; anonymous, reveals nothing private."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter()


def _version() -> str:
    try:
        return version("marketops")
    except PackageNotFoundError:
        return "unknown"


@router.get("/health")
def health(request: Request) -> JSONResponse:
    """``{"status": "ok", "version": ..., "database": "ok"}``; 503 when the app database is down."""
    try:
        with request.app.state.sessions() as session:
            session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:
        database = "unavailable"
    status = "ok" if database == "ok" else "degraded"
    return JSONResponse({"status": status, "version": _version(), "database": database},
                        status_code=200 if status == "ok" else 503)
