"""The web app: ``create_app(workspace_root)`` builds a FastAPI app serving one workspace.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp()) / "acme"
    >>> root.mkdir()
    >>> _ = (root / "marketops.yaml").write_text("name: Acme\\n")
    >>> app = create_app(root)
    >>> paths = {path for path, methods in routes(app)}
    >>> {"/", "/login", "/health", "/api/v1/overview", "/api/v1/metrics"} <= paths
    True
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from marketops.app import errors
from marketops.app.cache import AnalysisCache
from marketops.app.deps import require_user
from marketops.app.routes import (
    alerts,
    apidocs,
    assets,
    attribution,
    auth,
    budgets,
    channels,
    funnel,
    goals,
    health,
    imports,
    initiatives,
    leads,
    leads_handoff,
    leads_routing,
    leads_sla,
    metrics,
    overview,
    people,
    quality,
    review,
    review_pages,
    runs,
    settings,
    slas,
    tasks,
    users,
    utm,
)
from marketops.app.routes import library as library_routes
from marketops.app.routes import privacy as privacy_routes
from marketops.app.routes import stack as stack_routes
from marketops.app.security import LoginLimiter, SessionMiddleware, load_secret_key
from marketops.app.warmer import Warmer
from marketops.state.db import init_db, session_factory
from marketops.workspace import Workspace

STATIC_DIR = Path(__file__).parent / "static"

#: Routers that answer anonymous requests. Everything else requires a signed-in user.
PUBLIC = (health.router, auth.public, assets.router)
PRIVATE = (auth.private, overview.router, review.router, users.router, channels.router, attribution.router,
           funnel.router, metrics.router, quality.router, imports.router, runs.router, people.router, settings.router,
           review_pages.router, goals.router, initiatives.router, tasks.router, budgets.router, slas.router,
           stack_routes.router,
           alerts.router, leads_routing.router, leads_sla.router, leads_handoff.router, utm.router,
           leads.router, apidocs.router, library_routes.router, privacy_routes.router)  # /leads/{person} last: the fixed /leads/... paths first

# Everything is served from this origin (no CDN), so the policy can be strict.
SECURITY_HEADERS = {
    # Styles may be inline: Plotly sets them on the elements it draws. Scripts may not.
    b"content-security-policy": b"default-src 'self'; img-src 'self' data:; object-src 'none'; "
                                b"style-src 'self' 'unsafe-inline'; "
                                b"base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"same-origin",
}


class SecurityHeaders:
    """Adds the headers above to every response, and no-store to everything but static files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS.items() if k not in present]
                if not static and b"cache-control" not in present:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_wrapper)


class ServerTiming:
    """``Server-Timing: app;dur=<ms>`` on every response: the app's own time to answer, which the
    browser's developer tools show and ``bench/web.py`` measures (no network in it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - start) * 1000
                message["headers"] = [*message.get("headers", []), (b"server-timing", f"app;dur={ms:.1f}".encode())]
            await send(message)

        await self.app(scope, receive, send_wrapper)


def routes(app: FastAPI) -> list[tuple[str, set[str]]]:
    """Every (path, methods) the app answers, included routers flattened (FastAPI keeps them nested)."""
    return [(ctx.path, set(ctx.methods or ())) for ctx in iter_route_contexts(app.routes)
            if ctx.path is not None]


def create_app(workspace_root: Path, *, warm: bool = True) -> FastAPI:
    """The web app for the workspace at ``workspace_root``; migrates the app database first.
    ``warm``: precompute the pages' analyses in the background after each run (see ``warmer``)."""
    ws = Workspace.open(workspace_root)  # reads marketops.yaml only; the warehouse stays closed
    database_url = ws.app_database_url
    init_db(database_url)
    # The API documentation pages are off until they sit behind sign-in (a later issue).
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warmer = app.state.warmer = Warmer(app) if warm else None
        if warmer is not None:
            warmer.start()
        yield
        if warmer is not None:
            warmer.stop()

    app = FastAPI(title="marketops", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.workspace_root = ws.root
    app.state.database_url = database_url
    app.state.sessions = session_factory(database_url)
    app.state.secret_key = load_secret_key(ws.state_dir, ws.env.secret_key)
    app.state.login_limiter = LoginLimiter(max_failures=5, window_seconds=300)
    app.state.analysis_cache = AnalysisCache()

    for router in PUBLIC:
        app.include_router(router)
    for router in PRIVATE:
        app.include_router(router, dependencies=[Depends(require_user)])
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    errors.install(app)
    app.add_middleware(SessionMiddleware, secret_key=app.state.secret_key)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ServerTiming)
    return app
