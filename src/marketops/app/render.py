"""Rendering pages: Jinja2 templates with the reader's language, formatters and CSRF token.

Translations are passed per render as ``_`` in the template context (not installed globally in
the Jinja environment), because requests in different languages render concurrently.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from marketops.app.charts import figure_json
from marketops.app.i18n import LANGUAGES, Formatter, pick_language, translations
from marketops.app.security import CSRF_FIELD, new_csrf_token
from marketops.state.models import ROLES
from marketops.workspace import Workspace


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it yet (gettext's convention)."""
    return message


TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
LANG_COOKIE = "marketops_lang"


@dataclass(frozen=True)
class NavItem:
    """One entry of the side navigation; shown to users with ``role`` or a more powerful one."""

    href: str
    label: str  # translated in the template
    icon: str  # SVG path, 24 x 24
    role: str = "viewer"
    section: str | None = None  # a heading printed above this entry


# Labels are marked for extraction here and translated at render time (the reader's language).
NAV = (
    NavItem("/", N_("Overview"), "M3 13h8V3H3zm0 8h8v-6H3zm10 0h8V11h-8zm0-18v6h8V3z"),
    NavItem("/channels", N_("Channels"), "M4 20h3V10H4zm6.5 0h3V4h-3zM17 20h3v-7h-3z", section=N_("Analyse")),
    NavItem("/attribution", N_("Attribution"), "M12 2a10 10 0 1 0 10 10h-10z M14 0v10h10A10 10 0 0 0 14 0z"),
    NavItem("/funnel", N_("Funnel"), "M3 4h18l-7 8v6l-4 2v-8z"),
    NavItem("/goals", N_("Goals"), "M12 2a10 10 0 1 0 10 10A10 10 0 0 0 12 2zm0 16a6 6 0 1 1 6-6 6 6 0 0 1-6 6zm0-9a3 3 0 "
            "1 0 3 3 3 3 0 0 0-3-3z", section=N_("Plan")),
    NavItem("/initiatives", N_("Initiatives"), "M14 6l-1-2H5v17h2v-7h5l1 2h7V6z"),
    NavItem("/tasks", N_("Tasks"), "M3 5h4v4H3zm6 1v2h12V6zM3 11h4v4H3zm6 1v2h12v-2zm-6 5h4v4H3zm6 1v2h12v-2z"),
    NavItem("/budgets", N_("Budgets"), "M21 7H3V5h18zm0 2H3v10h18zM12 17a3 3 0 1 1 3-3 3 3 0 0 1-3 3z"),
    NavItem("/slas", N_("SLAs"), "M12 2a10 10 0 1 0 10 10A10 10 0 0 0 12 2zm1 11h-5v-2h3V6h2z"),
    NavItem("/alerts", N_("Alerts"), "M12 22a2 2 0 0 0 2-2h-4a2 2 0 0 0 2 2zm6-6V11c0-3.1-1.6-5.6-4.5-6.3V4a1.5 1.5 0 0 "
            "0-3 0v.7C7.6 5.4 6 7.9 6 11v5l-2 2v1h16v-1z"),
    NavItem("/leads", N_("Leads"), "M16 11a4 4 0 1 0-4-4 4 4 0 0 0 4 4zm-8 0a3 3 0 1 0-3-3 3 3 0 0 0 3 3zm0 2c-2.3 0-7 "
            "1.2-7 3.5V19h7v-2.5c0-.9.4-1.8 1-2.5zm8 0c-2.7 0-8 1.3-8 4v2h16v-2c0-2.7-5.3-4-8-4z", section=N_("Sales")),
    NavItem("/leads/routing", N_("Routing"), "M14 4l2.3 2.3-2.9 2.9 1.4 1.4 2.9-2.9L20 10V4zm-4 0H4v6l2.3-2.3 4.7 "
            "4.7V20h2v-8.4l-5.3-5.3z"),
    NavItem("/leads/sla", N_("Speed to lead"), "M13 2 3 14h7l-1 8 10-12h-7z"),
    NavItem("/leads/handoff", N_("Handoff"), "M4 6h16v2H4zm0 5h10v2H4zm0 5h16v2H4z"),
    NavItem("/stack", N_("Martech stack"), "M4 4h7v7H4zm9 0h7v7h-7zM4 13h7v7H4zm9 3.5a3.5 3.5 0 1 0 7 0 3.5 3.5 0 0 0-7 "
            "0z", section=N_("Govern")),
    NavItem("/utm", N_("UTM links"), "M10.6 13.4a1 1 0 0 0 1.4 0l4-4a3 3 0 0 0-4.2-4.2l-1.5 1.5 1.4 1.4 1.5-1.5a1 1 0 0 1 "
            "1.4 1.4l-4 4a1 1 0 0 0 0 1.4zm2.8-2.8a1 1 0 0 0-1.4 0l-4 4a3 3 0 0 0 4.2 4.2l1.5-1.5-1.4-1.4-1.5 1.5a1 1 0 "
            "0 1-1.4-1.4l4-4a1 1 0 0 0 0-1.4z"),
    NavItem("/privacy", N_("Privacy"), "M12 1 3 5v6c0 5.5 3.8 10.7 9 12 5.2-1.3 9-6.5 9-12V5zm0 6a3 3 0 0 1 3 3v1h1v6H8v-6h1"
            "v-1a3 3 0 0 1 3-3zm0 2a1 1 0 0 0-1 1v1h2v-1a1 1 0 0 0-1-1z"),
    NavItem("/playbooks", N_("Playbooks"), "M6 2h9l5 5v15H6zm8 1.5V8h4.5zM8 12h8v2H8zm0 4h8v2H8z"),
    NavItem("/assets", N_("Assets"), "M21 19V5a2 2 0 0 0-2-2H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2zM8.5 13.5l2.5 "
            "3 3.5-4.5 4.5 6H5z"),
    NavItem("/quality", N_("Data quality"), "M12 2 4 5v6c0 5 3.4 9.7 8 11 4.6-1.3 8-6 8-11V5zm-1.5 14.5-4-4 1.4-1.4 "
            "2.6 2.6 5.6-5.6 1.4 1.4z", section=N_("Data")),
    NavItem("/review", N_("Review queue"), "M9 11H7v2h2zm4 0h-2v2h2zm4 0h-2v2h2zm2-7h-1V2h-2v2H8V2H6v2H5a2 2 0 0 0-2 "
            "2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2zm0 16H5V9h14z"),
    NavItem("/imports", N_("Imports"), "M19 9h-4V3H9v6H5l7 7zM5 18v2h14v-2z"),
    NavItem("/people", N_("People"), "M12 12a5 5 0 1 0-5-5 5 5 0 0 0 5 5zm0 2c-3.3 0-10 1.7-10 5v3h20v-3c0-3.3-6.7-5-10-5z"),
    NavItem("/runs", N_("Runs"), "M8 5v14l11-7z"),
    NavItem("/settings", N_("Settings"), "M19.4 13a7.5 7.5 0 0 0 0-2l2.1-1.6-2-3.5-2.5 1a7.6 7.6 0 0 0-1.7-1L15 3h-4l-.4 "
            "2.7a7.6 7.6 0 0 0-1.7 1l-2.5-1-2 3.5L6.6 11a7.5 7.5 0 0 0 0 2l-2.1 1.6 2 3.5 2.5-1a7.6 7.6 0 0 0 1.7 "
            "1L11 21h4l.4-2.7a7.6 7.6 0 0 0 1.7-1l2.5 1 2-3.5zM13 15a3 3 0 1 1 3-3 3 3 0 0 1-3 3z",
            section=N_("Workspace")),
    NavItem("/docs", N_("API"), "M8 3a2 2 0 0 0-2 2v4a2 2 0 0 1-2 2H3v2h1a2 2 0 0 1 2 2v4a2 2 0 0 0 2 2h2v-2H8v-5a2 2 0 "
            "0 0-2-2 2 2 0 0 0 2-2V5h2V3zm8 0a2 2 0 0 1 2 2v4a2 2 0 0 0 2 2h1v2h-1a2 2 0 0 0-2 2v4a2 2 0 0 1-2 2h-2v-2h2v-5a2 "
            "2 0 0 1 2-2 2 2 0 0 1-2-2V5h-2V3z"),
)


def nav_for(user: Any, path: str) -> list[dict[str, Any]]:
    """The navigation entries ``user`` may open, the current one marked active.

    >>> class U: role = "viewer"
    >>> [i["href"] for i in nav_for(U(), "/funnel") if i["active"]]
    ['/funnel']
    >>> [i["href"] for i in nav_for(U(), "/leads/sla") if i["active"]]
    ['/leads/sla']
    """
    if user is None:
        return []
    rank = ROLES.index(user.role) if user.role in ROLES else len(ROLES)
    # The longest matching entry is the active one: /leads/sla is "Speed to lead", not "Leads".
    matches = [i.href for i in NAV if i.href == path or (i.href != "/" and path.startswith(i.href + "/"))]
    current = max(matches, key=len) if matches else None
    return [{**item.__dict__, "active": item.href == current} for item in NAV if rank <= ROLES.index(item.role)]


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
    """``?lang=`` first, then the signed-in user's language (Settings), then the language cookie,
    then ``language:`` of marketops.yaml."""
    cached = getattr(request.state, "lang", None)
    if cached:
        return cached
    try:
        configured = workspace_config(request).language
    except Exception:  # a broken marketops.yaml must not take the error page down with it
        configured = None
    chosen = getattr(getattr(request.state, "user", None), "language", None)
    lang = pick_language(request.query_params.get("lang"), chosen, request.cookies.get(LANG_COOKIE), configured)
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
        # the page with its filters, to come back to after switching language
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "lang_query": lambda code: urlencode({**request.query_params, "lang": code}),
        "nav": nav_for(getattr(request.state, "user", None), request.url.path),
        "charts": False,
        "chart_json": figure_json,
    }
    ctx.update(context or {})
    response = TEMPLATES.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")
    return response
