"""Dependencies every route builds on: the database session, the signed-in user, roles, scopes.

Who is asking:
- pages: the signed session cookie (see :mod:`marketops.app.security`);
- ``/api/...``: ``Authorization: Bearer <token>``; the session cookie is accepted too (the pages'
  own scripts), but then unsafe methods must carry the CSRF token in ``X-CSRF-Token``.

Roles are ordered admin > editor > viewer: ``require_role("editor")`` lets admins in as well.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from marketops.app.security import CSRF_FIELD, CSRF_HEADER, csrf_matches, password_fingerprint
from marketops.state.models import ROLES, SCOPES, User
from marketops.state.tokens import verify_token
from marketops.workspace import Workspace

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class NotAuthenticated(Exception):
    """Nobody (valid) is signed in: pages redirect to /login, the API answers 401."""

    def __init__(self, message: str = "sign in first") -> None:
        super().__init__(message)
        self.message = message


class Forbidden(Exception):
    """Signed in, but the role or token scope does not allow this: 403."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def get_db(request: Request) -> Iterator[Session]:
    """A session per request; routes commit what they change, the rest is rolled back."""
    session = request.app.state.sessions()
    try:
        yield session
    finally:
        session.close()


DB = Annotated[Session, Depends(get_db)]


def _session_user(request: Request, db: Session) -> User | None:
    data = request.session
    uid = data.get("uid")
    if not isinstance(uid, int):
        return None
    user = db.get(User, uid)
    if user is None or not user.active:
        return None
    if data.get("fp") != password_fingerprint(user.password_hash, request.app.state.secret_key):
        return None  # the password changed since this session began
    return user


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def optional_user(request: Request, db: DB) -> User | None:
    """The signed-in user or None; sets ``request.state.user`` (and ``.token`` for bearer tokens)."""
    request.state.token = None
    request.state.user = _resolve(request, db)
    return request.state.user


def _resolve(request: Request, db: Session) -> User | None:
    if is_api(request):
        secret = _bearer(request)
        if secret is not None:
            token = verify_token(db, secret)
            if token is None:
                raise NotAuthenticated("the API token is invalid or revoked")
            db.commit()  # keep last_used_at
            request.state.token = token
            return token.user
        if request.headers.get("authorization"):
            raise NotAuthenticated("use 'Authorization: Bearer <token>'")
        user = _session_user(request, db)
        if user is not None and request.method not in SAFE_METHODS and not csrf_matches(
                request.session, request.headers.get(CSRF_HEADER)):
            raise Forbidden("missing or wrong X-CSRF-Token header")
        return user
    return _session_user(request, db)


def require_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    """The signed-in user; anonymous requests are refused."""
    if user is None:
        raise NotAuthenticated()
    return user


CurrentUser = Annotated[User, Depends(require_user)]


def require_role(role: str):
    """A dependency admitting users whose role is ``role`` or a more powerful one.

    Example:
        >>> callable(require_role("admin"))
        True
    """
    if role not in ROLES:
        raise ValueError(f"unknown role '{role}'; valid: {', '.join(ROLES)}")
    allowed = ROLES[: ROLES.index(role) + 1]

    def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise Forbidden(f"this needs the {role} role; you are {user.role}")
        return user

    return check


def require_scope(scope: str):
    """A dependency checking a bearer token's scope (admin > write > read); sessions pass."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope '{scope}'; valid: {', '.join(SCOPES)}")

    def check(request: Request, user: CurrentUser) -> User:
        token = getattr(request.state, "token", None)
        if token is not None:
            granted = {s for s in token.scopes if s in SCOPES}
            if not any(SCOPES.index(g) >= SCOPES.index(scope) for g in granted):
                raise Forbidden(f"this token lacks the '{scope}' scope")
        return user

    return check


AdminUser = Annotated[User, Depends(require_role("admin"))]


@contextmanager
def read_workspace(request: Request) -> Iterator[Workspace]:
    """The workspace, read-only and only for this request: a CLI run in another process needs the
    warehouse's write lock between requests (while it holds it, opening raises WorkspaceLocked,
    which pages and the API answer with 503 and Retry-After)."""
    ws = Workspace.open(request.app.state.workspace_root, read_only=True)
    try:
        yield ws
    finally:
        ws.close()


async def form_csrf(request: Request) -> None:
    """For HTML forms that change something: the form's CSRF field must match the session's.
    Use as ``dependencies=[Depends(form_csrf)]``; the route can still read the form's fields."""
    form = await request.form()
    if not csrf_matches(request.session, form.get(CSRF_FIELD)):
        raise Forbidden("this form has expired; reload the page and try again")


_editor_role = require_role("editor")
_write_scope = require_scope("write")


def require_editor(user: Annotated[User, Depends(_editor_role)],
                   _token: Annotated[User, Depends(_write_scope)]) -> User:
    """Editors and admins; a bearer token must also carry the ``write`` scope."""
    return user


#: Reading: any signed-in user; a token needs the ``read`` scope.
Reader = Annotated[User, Depends(require_scope("read"))]
#: Changing data (imports, decisions, planning): editors and admins; tokens need ``write``.
Editor = Annotated[User, Depends(require_editor)]
