"""The API's documentation, behind sign-in like the API itself: the OpenAPI schema at
``/api/v1/openapi.json`` and Swagger UI at ``/docs``.

Swagger UI's JavaScript and CSS come from the ``swagger-ui-bundle-v2`` wheel (import name
``swagger_ui_bundle``, Swagger UI 5, which reads the OpenAPI 3.1 FastAPI writes) and are served
from ``/docs/assets/``: nothing from a CDN, and the page's own start-up script is
``/static/apidocs.js`` (the security policy forbids inline scripts). Without the wheel, ``/docs``
lists the endpoints from the same schema as plain HTML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, Response
from fastapi.routing import iter_route_contexts

import marketops
from marketops.app.deps import Reader
from marketops.app.errors import CODES
from marketops.app.render import render
from marketops.app.security import SESSION_COOKIE
from marketops.errors import NotFound

router = APIRouter()

API_PREFIX = "/api/"
#: The Swagger UI files /docs needs, and their media types.
ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}
METHODS = ("get", "post", "put", "patch", "delete")

DESCRIPTION = """\
The marketops REST API: the same data and actions as the web app.

**Authentication.** Send `Authorization: Bearer <token>` (create tokens with `marketops tokens`;
scopes: `read`, `write`, `admin`). A signed-in browser session works too; then requests that
change something must carry the session's CSRF token in `X-CSRF-Token` (this page does that).

**Lists** take `limit` (page size, at most 500) and `offset` and answer
`{"items": [...], "total": N, "limit": L, "offset": O}`. **Reports** answer `?format=csv` or
`?format=xlsx` with every row as a file.

**Errors** always look like `{"error": {"code": "not_found", "message": "..."}}`; codes: """ + ", ".join(
    f"`{c}` ({s})" for s, c in sorted(CODES.items())) + "."

ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string", "enum": sorted(set(CODES.values()))},
        "message": {"type": "string"}}}},
}


def swagger_dir() -> Path | None:
    """Where the installed Swagger UI files are, or None without the ``swagger-ui-bundle-v2`` wheel."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    folder = Path(str(swagger_ui_path))
    return folder if all((folder / name).is_file() for name in ASSETS) else None


def api_schema(app) -> dict[str, Any]:
    """The OpenAPI document of every ``/api/`` route (pages are not part of the API), built once per app.

    Example:
        >>> from fastapi import FastAPI
        >>> app = FastAPI()
        >>> @app.get("/api/v1/ping")
        ... def ping() -> dict: return {}
        >>> @app.get("/page")
        ... def page() -> dict: return {}
        >>> list(api_schema(app)["paths"])
        ['/api/v1/ping']
    """
    cached = getattr(app.state, "api_schema", None)
    if cached is not None:
        return cached
    contexts = [ctx for ctx in iter_route_contexts(app.routes) if (ctx.path or "").startswith(API_PREFIX)]
    schema = get_openapi(title="marketops API", version=marketops.__version__, description=DESCRIPTION,
                         routes=contexts)
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    components["securitySchemes"] = {
        "bearerToken": {"type": "http", "scheme": "bearer",
                        "description": "An API token (`marketops tokens create`)."},
        "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                    "description": "The web app's session; unsafe methods also need X-CSRF-Token."}}
    schema["security"] = [{"bearerToken": []}, {"session": []}]
    error = {"description": "Error",
             "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            if method in METHODS:
                responses = operation.setdefault("responses", {})
                for status in ("401", "403"):
                    described = {**error, "description": CODES[int(status)].replace("_", " ")}
                    responses.setdefault(status, described)
    app.state.api_schema = schema
    return schema


def endpoints(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operation of ``schema`` as (tag, method, path, summary, description), for the plain list."""
    out = []
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            if method in METHODS:
                out.append({"tag": (op.get("tags") or ["other"])[0], "method": method.upper(), "path": path,
                            "summary": op.get("summary") or "", "description": op.get("description") or "",
                            "parameters": [p.get("name") for p in op.get("parameters", [])]})
    return sorted(out, key=lambda e: (e["tag"], e["path"], METHODS.index(e["method"].lower())))


@router.get("/api/v1/openapi.json", include_in_schema=False)
def openapi_json(request: Request, user: Reader) -> dict[str, Any]:
    return api_schema(request.app)


@router.get("/docs", include_in_schema=False)
def docs_page(request: Request, user: Reader) -> Response:
    schema = api_schema(request.app)
    context = {"swagger": swagger_dir() is not None, "endpoints": endpoints(schema),
               "schema_url": "/api/v1/openapi.json"}
    return render(request, "api_docs.html", context)


@router.get("/docs/assets/{name}", include_in_schema=False)
def docs_asset(name: str, user: Reader) -> FileResponse:
    folder = swagger_dir()
    if folder is None or name not in ASSETS:  # a fixed list: nothing else of the folder is served
        raise NotFound(f"no documentation asset '{name}'")
    return FileResponse(folder / name, media_type=ASSETS[name],
                        headers={"Cache-Control": "private, max-age=86400"})
