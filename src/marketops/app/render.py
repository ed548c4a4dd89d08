"""Rendering pages: Jinja2 templates with the reader's language, formatters and CSRF token.

Translations are passed per render as ``_`` in the template context (not installed globally in
the Jinja environment), because requests in different languages render concurrently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from marketops.app.i18n import LANGUAGES, Formatter, pick_language, translations
from marketops.app.security import CSRF_FIELD, new_csrf_token
from marketops.workspace import Workspace

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
LANG_COOKIE = "marketops_lang"


def workspace_config(request: Request):
    """The workspace's marketops.yaml, read once per request so edits show without a restart."""
    config = getattr(request.state, "workspace_config", None)
    if config is None:
        config = request.state.workspace_config = Workspace.open(request.app.state.workspace_root).config
    return config


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use (this also starts the anonymous session)."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = new_csrf_token()
    return token


def language(request: Request) -> str:
    """``?lang=`` first, then the language cookie, then ``language:`` of marketops.yaml."""
    cached = getattr(request.state, "lang", None)
    if cached:
        return cached
    try:
        configured = workspace_config(request).language
    except Exception:  # a broken marketops.yaml must not take the error page down with it
        configured = None
    lang = pick_language(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE), configured)
    request.state.lang = lang
    return lang


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200,
           headers: dict | None = None) -> Response:
    """Render template ``name`` with the shared context (user, language, CSRF token, nav)."""
    lang = language(request)
    t = translations(lang)
    try:
        workspace_name = workspace_config(request).name
    except Exception:
        workspace_name = "marketops"
    ctx = {
        "_": t.gettext,
        "ngettext": t.ngettext,
        "fmt": Formatter(lang),
        "lang": lang,
        "languages": LANGUAGES,
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
        "user": getattr(request.state, "user", None),
        "workspace_name": workspace_name,
        "path": request.url.path,
    }
    ctx.update(context or {})
    response = TEMPLATES.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")
    return response
