"""``/settings/users``: who can sign in, with which role (admins only): add a user, change a role,
deactivate or reactivate, reset a password, remove; and ``GET /api/v1/users``.

Every change goes through :mod:`marketops.state.users` (the CLI's functions), which writes the
audit event (actor, action, target, IP) and refuses to leave the workspace without an active
admin. Each row's forms carry the ``version`` of the user they were rendered from: when another
admin changed or removed that user in the meantime, the change is refused with a clear message
(409) instead of silently overwriting what they did.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketops.app.deps import DB, AdminUser, client_ip, form_csrf
from marketops.app.downloads import Format
from marketops.app.render import N_, render
from marketops.app.routes.metrics import file_of
from marketops.app.routes.settings import ApiAdmin, flash, pop_flash
from marketops.app.security import password_fingerprint
from marketops.errors import MarketopsError, NotFound
from marketops.state.models import ROLES, User
from marketops.state.tokens import list_tokens
from marketops.state.users import (
    MIN_PASSWORD_LENGTH,
    create_user,
    list_users,
    remove_user,
    set_active,
    set_password,
    set_role,
)

router = APIRouter()
CSRF = [Depends(form_csrf)]

TEXT_GONE = N_("This user no longer exists: another admin removed them. The list below is up to date.")
TEXT_STALE = N_("Another admin changed %(email)s while you were looking (now: %(state)s). "
                "Nothing was changed: check the list below and try again.")
TEXT_SELF = N_("You cannot change your own role, deactivate or remove yourself: ask another admin.")


def user_version(user: User) -> str:
    """A short digest of what the row's actions depend on: role, status and password.

    >>> u = User(email="a@x.io", role="viewer", active=True, password_hash="h")
    >>> v = user_version(u); u.active = False; v == user_version(u)
    False
    """
    raw = f"{user.id}|{user.role}|{bool(user.active)}|{user.password_hash}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


#: What the API and the download say about a user (no password hash, ever).
USER_COLUMNS = ("id", "email", "name", "role", "active", "language", "created_at", "last_login_at", "active_tokens")


def user_json(user: User, tokens: int = 0) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role, "active": user.active,
            "language": user.language, "created_at": user.created_at, "last_login_at": user.last_login_at,
            "active_tokens": tokens}


def _token_counts(db: Session) -> dict[int, int]:
    counts: dict[int, int] = {}
    for token in list_tokens(db):
        if token.revoked_at is None:
            counts[token.user_id] = counts.get(token.user_id, 0) + 1
    return counts


def _page(request: Request, db: Session, *, error: str | None = None, error_args: dict | None = None,
          secret: dict | None = None, form: dict | None = None, status_code: int = 200) -> Response:
    return render(request, "users.html", {
        "users": list_users(db), "tokens": _token_counts(db), "roles": ROLES, "version": user_version,
        "error": error, "error_args": error_args or {}, "secret": secret, "flash": pop_flash(request),
        "form": form or {"email": "", "name": "", "role": "viewer"}, "min_password": MIN_PASSWORD_LENGTH},
        status_code=status_code)


@router.get("/settings/users")
def users_page(request: Request, db: DB, admin: AdminUser) -> Response:
    return _page(request, db)


@router.get("/api/v1/users", response_model=None)
def users_api(db: DB, admin: ApiAdmin, format: Format = "json") -> dict | Response:
    """Every user (admins; tokens need the ``admin`` scope), by email; ``?format=csv|xlsx`` as a file
    (never a password or token hash: the same fields as the JSON)."""
    users, counts = list_users(db), _token_counts(db)
    rows = [user_json(u, counts.get(u.id, 0)) for u in users]
    if format != "json":
        return file_of(rows, list(USER_COLUMNS), "users", format)
    return {"items": rows, "total": len(users)}


@router.post("/settings/users", dependencies=CSRF)
def users_add(request: Request, db: DB, admin: AdminUser, email: Annotated[str, Form()] = "",
              name: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "viewer",
              password: Annotated[str, Form()] = "") -> Response:
    form = {"email": email, "name": name, "role": role}
    generated = not password
    password = password or secrets.token_urlsafe(15)
    try:
        user = create_user(db, email, password, role=role, name=name[:200], actor=admin.email, ip=client_ip(request))
        db.commit()
    except MarketopsError as e:
        db.rollback()
        return _page(request, db, error=e.message, form=form, status_code=400)
    except IntegrityError:  # another admin added the same email a moment ago
        db.rollback()
        return _page(request, db, error=N_("A user with this email already exists."), form=form, status_code=409)
    if generated:
        # Shown in this response only (no redirect: the password must not travel in a cookie).
        return _page(request, db, secret={"email": user.email, "password": password, "new": True})
    flash(request, N_("Added %(email)s as %(role)s."), email=user.email, role=user.role)
    return RedirectResponse("/settings/users", status_code=303)


def _current(request: Request, db: Session, admin: User, user_id: int, version: str,
             *, self_allowed: bool = False) -> User | Response:
    """The user to change, or the page explaining why not (removed, changed meanwhile, yourself)."""
    user = db.get(User, user_id)
    if user is None:
        return _page(request, db, error=TEXT_GONE, status_code=409)
    if user.id == admin.id and not self_allowed:
        return _page(request, db, error=TEXT_SELF, status_code=400)
    if version != user_version(user):
        state = f"{user.role}, {'active' if user.active else 'inactive'}"
        return _page(request, db, error=TEXT_STALE, error_args={"email": user.email, "state": state},
                     status_code=409)
    return user


def _apply(request: Request, db: Session, change, done: str, **args: Any) -> Response:
    try:
        change()
        db.commit()
    except NotFound:  # removed between our read and the change
        db.rollback()
        return _page(request, db, error=TEXT_GONE, status_code=409)
    except MarketopsError as e:
        db.rollback()
        return _page(request, db, error=e.message, status_code=400)
    flash(request, done, **args)
    return RedirectResponse("/settings/users", status_code=303)


@router.post("/settings/users/{user_id}/role", dependencies=CSRF)
def users_role(request: Request, db: DB, admin: AdminUser, user_id: int, role: Annotated[str, Form()],
               version: Annotated[str, Form()] = "") -> Response:
    user = _current(request, db, admin, user_id, version)
    if isinstance(user, Response):
        return user
    return _apply(request, db, lambda: set_role(db, user.email, role, actor=admin.email, ip=client_ip(request)),
                  N_("%(email)s is now %(role)s."), email=user.email, role=role)


@router.post("/settings/users/{user_id}/active", dependencies=CSRF)
def users_active(request: Request, db: DB, admin: AdminUser, user_id: int, active: Annotated[bool, Form()],
                 version: Annotated[str, Form()] = "") -> Response:
    user = _current(request, db, admin, user_id, version)
    if isinstance(user, Response):
        return user
    done = N_("%(email)s can sign in again.") if active else N_(
        "%(email)s is deactivated: their sessions and API tokens stopped working.")
    return _apply(request, db, lambda: set_active(db, user.email, active, actor=admin.email, ip=client_ip(request)),
                  done, email=user.email)


@router.post("/settings/users/{user_id}/password", dependencies=CSRF)
def users_password(request: Request, db: DB, admin: AdminUser, user_id: int,
                   version: Annotated[str, Form()] = "") -> Response:
    """A new random password, shown once to the admin; the user's sessions end."""
    user = _current(request, db, admin, user_id, version, self_allowed=True)
    if isinstance(user, Response):
        return user
    password = secrets.token_urlsafe(15)
    try:
        set_password(db, user.email, password, actor=admin.email, ip=client_ip(request))
        db.commit()
    except NotFound:
        db.rollback()
        return _page(request, db, error=TEXT_GONE, status_code=409)
    if user.id == admin.id:
        # Their own password: this session would end with the old fingerprint; keep it going.
        request.session["fp"] = password_fingerprint(user.password_hash, request.app.state.secret_key)
    return _page(request, db, secret={"email": user.email, "password": password, "new": False})


@router.post("/settings/users/{user_id}/remove", dependencies=CSRF)
def users_remove(request: Request, db: DB, admin: AdminUser, user_id: int,
                 version: Annotated[str, Form()] = "") -> Response:
    user = _current(request, db, admin, user_id, version)
    if isinstance(user, Response):
        return user
    email = user.email
    return _apply(request, db, lambda: remove_user(db, email, actor=admin.email, ip=client_ip(request)),
                  N_("Removed %(email)s and their API tokens."), email=email)
