"""One error shape per audience: pages get an HTML page or a redirect, the API gets

``{"error": {"code": "...", "message": "..."}}`` with the matching HTTP status.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from marketops.app.deps import Forbidden, NotAuthenticated, is_api
from marketops.errors import NotFound, ValidationFailed, WorkspaceLocked

CODES = {400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_type",
         422: "invalid_request", 429: "rate_limited",
         500: "internal_error", 503: "unavailable"}


def api_error(status: int, message: str, code: str | None = None, headers: dict | None = None) -> JSONResponse:
    """The API's error envelope.

    Example:
        >>> api_error(404, "no such run").body
        b'{"error":{"code":"not_found","message":"no such run"}}'
    """
    return JSONResponse({"error": {"code": code or CODES.get(status, "error"), "message": message}},
                        status_code=status, headers=headers)


def _page(request: Request, status: int, message: str, headers: dict | None = None) -> Response:
    from marketops.app.render import render

    return render(request, "error.html", {"status": status, "message": message}, status_code=status,
                  headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if is_api(request):
            return api_error(401, exc.message, headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        if is_api(request):
            return api_error(403, exc.message)
        return _page(request, 403, exc.message)

    @app.exception_handler(WorkspaceLocked)
    async def locked(request: Request, exc: WorkspaceLocked) -> Response:
        message = "a run is in progress, try again in a moment"
        if is_api(request):
            return api_error(503, message, code="workspace_busy", headers={"Retry-After": "5"})
        return _page(request, 503, message, headers={"Retry-After": "5"})

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return api_error(404, str(exc)) if is_api(request) else _page(request, 404, str(exc))

    @app.exception_handler(ValidationFailed)
    async def refused(request: Request, exc: ValidationFailed) -> Response:
        # A rule said no (a circular dependency, a deadline in the past...): the message says which.
        return api_error(422, exc.message) if is_api(request) else _page(request, 422, exc.message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        headers = dict(exc.headers or {})
        if is_api(request):
            return api_error(exc.status_code, str(exc.detail), headers=headers)
        return _page(request, exc.status_code, str(exc.detail), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return api_error(422, problems) if is_api(request) else _page(request, 400, problems)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        # Details go to the server log (uvicorn prints the traceback), never to the client.
        if is_api(request):
            return api_error(500, "internal error; the server log has the details")
        return Response("Internal error; the server log has the details.", status_code=500,
                        media_type="text/plain")
