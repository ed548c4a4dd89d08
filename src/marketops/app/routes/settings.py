"""Settings: ``/settings`` (your language and API tokens), ``/settings/tokens`` (create, list, revoke)
and ``/settings/audit`` (admins: the audit log), plus ``/api/v1/tokens`` and ``/api/v1/audit``.

Tokens are made and checked by :mod:`marketops.state.tokens` (the CLI uses the same functions):
only a hash is stored, the secret is shown once, in the response that created it. A token never
gets a scope above its owner's role (viewer: read; editor: read, write; admin: all three).
Managing tokens through the API with a token needs the ``admin`` scope, so a leaked read token
cannot mint itself a stronger one; browser sessions send ``X-CSRF-Token`` instead.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from marketops.app.deps import DB, CurrentUser, Reader, client_ip, form_csrf, require_role, require_scope
from marketops.app.downloads import Format, Limit, Offset, page_json
from marketops.app.errors import api_error
from marketops.app.i18n import LANGUAGES
from marketops.app.render import LANG_COOKIE, N_, render
from marketops.app.routes.auth import safe_next
from marketops.app.routes.metrics import file_of
from marketops.errors import MarketopsError, NotFound
from marketops.state import audit
from marketops.state.models import ApiToken, AuditEvent, User
from marketops.state.tokens import ROLE_SCOPES, create_token, list_tokens, revoke_token
from marketops.state.users import set_language

router = APIRouter()

#: The scopes a role may give its tokens.
MAX_TOKEN_NAME = 200
AUDIT_PAGE = 50


def _api_admin(user: Annotated[User, Depends(require_role("admin"))],
               _token: Annotated[User, Depends(require_scope("admin"))]) -> User:
    return user


#: Admins; a bearer token must also carry the ``admin`` scope.
ApiAdmin = Annotated[User, Depends(_api_admin)]
#: Changing tokens through the API: any user, but a bearer token needs the ``admin`` scope.
TokenManager = Annotated[User, Depends(require_scope("admin"))]


# -- flash messages: one notice carried over a redirect, translated when shown ---------------------
def flash(request: Request, text: str, kind: str = "ok", **args: Any) -> None:
    """Show ``text`` (English, marked with N_; ``%(name)s`` placeholders filled from ``args``) on
    the next page this session renders."""
    request.session["flash"] = {"text": text, "kind": kind, "args": {k: str(v) for k, v in args.items()}}


def pop_flash(request: Request) -> dict | None:
    return request.session.pop("flash", None)


# -- tokens: shared by the page and the API ---------------------------------------------------------
def allowed_scopes(user: User) -> tuple[str, ...]:
    """Scopes ``user`` may give a token.

    >>> allowed_scopes(User(role="editor"))
    ('read', 'write')
    """
    return ROLE_SCOPES.get(user.role, ("read",))


class TokenRefused(MarketopsError):
    """A token cannot be made as asked (no scope, a scope above the role, a bad name)."""


def _new_token(db: Session, user: User, name: str, scopes: list[str], ip: str) -> tuple[ApiToken, str]:
    name = (name or "").strip()
    if not name:
        raise TokenRefused("give the token a name, e.g. what will use it")
    if len(name) > MAX_TOKEN_NAME:
        raise TokenRefused(f"the name is too long (at most {MAX_TOKEN_NAME} characters)")
    scopes = sorted(set(scopes))
    if not scopes:
        raise TokenRefused("pick at least one scope")
    beyond = [s for s in scopes if s not in allowed_scopes(user)]
    if beyond:
        raise TokenRefused(f"your role ({user.role}) cannot give a token the scope '{beyond[0]}'")
    return create_token(db, user, name, scopes, actor=user.email, ip=ip)


def _token_of(db: Session, user: User, token_id: int) -> ApiToken:
    """The token ``token_id`` if ``user`` may manage it (theirs, or any for admins)."""
    token = db.get(ApiToken, token_id)
    if token is None or (token.user_id != user.id and user.role != "admin"):
        raise NotFound(f"no API token with id {token_id}")
    return token


def token_json(token: ApiToken) -> dict[str, Any]:
    return {"id": token.id, "name": token.name, "user": token.user.email, "scopes": list(token.scopes),
            "created_at": token.created_at, "last_used_at": token.last_used_at, "revoked_at": token.revoked_at,
            "active": token.revoked_at is None}


def _visible_tokens(db: Session, user: User, everyone: bool) -> list[ApiToken]:
    return list_tokens(db, None if everyone and user.role == "admin" else user)


# -- pages -----------------------------------------------------------------------------------------
@router.get("/settings")
def settings_page(request: Request, db: DB, user: CurrentUser) -> Response:
    tokens = [t for t in list_tokens(db, user) if t.revoked_at is None]
    return render(request, "settings.html", {"tokens": tokens, "flash": pop_flash(request),
                                             "chosen_language": user.language})


@router.post("/settings/language", dependencies=[Depends(form_csrf)])
def save_language(request: Request, db: DB, user: CurrentUser, language: Annotated[str, Form()] = "",
                  next: Annotated[str, Form()] = "/settings") -> Response:
    """Save the signed-in user's language ("" = the workspace's); also sets the language cookie so
    the sign-in page keeps it after signing out."""
    if language and language not in LANGUAGES:
        return render(request, "error.html", {"status": 400, "message": N_("Unknown language.")}, status_code=400)
    set_language(db, user.email, language or None, actor=user.email, ip=client_ip(request))
    db.commit()
    flash(request, N_("Language saved."))
    response = RedirectResponse(safe_next(next), status_code=303)
    if language:
        response.set_cookie(LANG_COOKIE, language, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")
    else:
        response.delete_cookie(LANG_COOKIE)
    return response


def _tokens_page(request: Request, db: Session, user: User, *, everyone: bool = False, secret: str | None = None,
                 created: ApiToken | None = None, error: str | None = None, form: dict | None = None,
                 status_code: int = 200) -> Response:
    return render(request, "tokens.html", {
        "tokens": _visible_tokens(db, user, everyone), "everyone": everyone and user.role == "admin",
        "scopes": allowed_scopes(user), "secret": secret, "created": created, "error": error,
        "form": form or {"name": "", "scopes": ["read"]}, "flash": pop_flash(request)},
        status_code=status_code)


@router.get("/settings/tokens")
def tokens_page(request: Request, db: DB, user: CurrentUser, all: bool = False) -> Response:
    return _tokens_page(request, db, user, everyone=all)


@router.post("/settings/tokens", dependencies=[Depends(form_csrf)])
def tokens_create(request: Request, db: DB, user: CurrentUser, name: Annotated[str, Form()] = "",
                  scopes: Annotated[list[str], Form()] = []) -> Response:  # noqa: B006 (FastAPI copies it)
    try:
        token, secret = _new_token(db, user, name, scopes, client_ip(request))
    except MarketopsError as e:
        db.rollback()
        return _tokens_page(request, db, user, error=e.message, form={"name": name, "scopes": scopes}, status_code=400)
    db.commit()
    # Rendered here, not after a redirect: the secret must not be stored anywhere, not even in the
    # session cookie. The response is no-store (see main.SecurityHeaders).
    return _tokens_page(request, db, user, secret=secret, created=token)


@router.post("/settings/tokens/{token_id}/revoke", dependencies=[Depends(form_csrf)])
def tokens_revoke(request: Request, db: DB, user: CurrentUser, token_id: int,
                  all: Annotated[bool, Form()] = False) -> Response:
    try:
        token = _token_of(db, user, token_id)
    except NotFound:
        return _tokens_page(request, db, user, everyone=all, status_code=404,
                            error=N_("This token no longer exists (its user may have been removed)."))
    already = token.revoked_at is not None
    revoke_token(db, token.id, actor=user.email, ip=client_ip(request))
    db.commit()
    if already:
        flash(request, N_("Token “%(name)s” was already revoked."), "warn", name=token.name)
    else:
        flash(request, N_("Token “%(name)s” revoked: it no longer works."), name=token.name)
    return RedirectResponse("/settings/tokens" + ("?all=true" if all else ""), status_code=303)


@router.get("/settings/audit")
def audit_page(request: Request, db: DB, admin: Annotated[User, Depends(require_role("admin"))],
               actor: Annotated[str, Query(max_length=320)] = "", action: Annotated[str, Query(max_length=100)] = "",
               limit: Limit = AUDIT_PAGE, offset: Offset = 0) -> Response:
    events, total = audit.search(db, actor=actor, action=action, limit=limit, offset=offset)
    return render(request, "audit.html", {"events": events, "total": total, "actor": actor, "action": action,
                                          "actions": audit.actions(db), "limit": limit, "offset": offset})


# -- API -------------------------------------------------------------------------------------------
class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=MAX_TOKEN_NAME, description="What the token is for.")
    scopes: list[str] = Field(default_factory=lambda: ["read"], description="read, write and/or admin.")


#: A token as a file: what the JSON says, scopes as one cell; never the secret or its hash.
TOKEN_COLUMNS = ["id", "name", "user", "scopes", "created_at", "last_used_at", "revoked_at", "active"]


@router.get("/api/v1/tokens", response_model=None)
def tokens_api(db: DB, user: Reader, all: bool = False,
               active: Annotated[bool | None, Query(description="true: only tokens not revoked.")] = None,
               format: Format = "json") -> dict | Response:
    """Your API tokens (admins: ``?all=true`` for everyone's), newest first; never their secrets.
    ``?format=csv|xlsx`` downloads them."""
    tokens = [t for t in _visible_tokens(db, user, all) if active is None or (t.revoked_at is None) == active]
    if format != "json":
        rows = [{**token_json(t), "scopes": ", ".join(t.scopes)} for t in tokens]
        return file_of(rows, TOKEN_COLUMNS, "api_tokens", format)
    return page_json([token_json(t) for t in tokens], len(tokens), len(tokens), 0)


@router.post("/api/v1/tokens", status_code=201, response_model=None)
def tokens_api_create(request: Request, db: DB, user: TokenManager,
                      body: Annotated[TokenIn, Body()]) -> dict | JSONResponse:
    """Create a token for yourself; the answer holds its ``secret``, which is never shown again."""
    try:
        token, secret = _new_token(db, user, body.name, body.scopes, client_ip(request))
    except MarketopsError as e:
        db.rollback()
        return api_error(400, e.message)
    db.commit()
    return {**token_json(token), "secret": secret}


@router.delete("/api/v1/tokens/{token_id}")
def tokens_api_revoke(request: Request, db: DB, user: TokenManager, token_id: int) -> dict:
    """Revoke a token (yours; admins: anyone's). Revoking twice is harmless."""
    token = _token_of(db, user, token_id)
    revoke_token(db, token.id, actor=user.email, ip=client_ip(request))
    db.commit()
    return token_json(token)


def audit_json(event: AuditEvent) -> dict[str, Any]:
    return {"id": event.id, "at": event.at, "actor": event.actor, "action": event.action, "target": event.target,
            "detail": event.detail, "ip": event.ip}


@router.get("/api/v1/audit", response_model=None)
def audit_api(db: DB, admin: ApiAdmin, actor: Annotated[str, Query(max_length=320)] = "",
              action: Annotated[str, Query(max_length=100)] = "", limit: Limit = AUDIT_PAGE, offset: Offset = 0,
              format: Format = "json") -> dict | Response:
    """The audit log, newest first: who did what, to what, when and from where. ``actor`` matches
    part of the actor; ``action`` is exact, or a prefix ending with a dot (``user.``)."""
    # a download holds every matching event, not one page
    events, total = (audit.search(db, actor=actor, action=action, limit=limit, offset=offset) if format == "json"
                     else audit.search(db, actor=actor, action=action, limit=None, offset=0))
    rows = [audit_json(e) for e in events]
    if format != "json":
        for row in rows:
            row["at"] = row["at"].isoformat()
            row["detail"] = json.dumps(row["detail"], ensure_ascii=False, sort_keys=True)
        return file_of(rows, ["id", "at", "actor", "action", "target", "detail", "ip"], "audit", format)
    return page_json(rows, total, limit, offset)
