"""Signing in and out with a form: CSRF-checked, rate-limited per IP and per email, audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from marketops.app.deps import DB, CurrentUser, client_ip, optional_user
from marketops.app.render import N_, render
from marketops.app.security import CSRF_FIELD, csrf_matches, new_csrf_token, password_fingerprint
from marketops.state.audit import record
from marketops.state.models import User
from marketops.state.users import authenticate

public = APIRouter()
private = APIRouter()

TEXT_BAD_CREDENTIALS = N_("Wrong email or password.")
TEXT_RATE_LIMITED = N_("Too many failed sign-in attempts. Please wait a few minutes and try again.")
TEXT_EXPIRED = N_("The form expired. Please try again.")


def safe_next(target: str | None) -> str:
    """Only same-site paths: ``next`` must never send a user to another site after sign-in.

    Example:
        >>> safe_next("/settings/users"), safe_next("//evil.test/x"), safe_next("https://evil.test")
        ('/settings/users', '/', '/')
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(request: Request, *, error: str | None = None, email: str = "", next_url: str = "/",
                status_code: int = 200) -> Response:
    return render(request, "login.html", {"error": error, "email": email, "next": safe_next(next_url)},
                  status_code=status_code)


@public.get("/login")
def login_form(request: Request, user: Annotated[User | None, Depends(optional_user)],
               next: str = "/") -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next_url=next)


@public.post("/login")
def login(request: Request, db: DB, email: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "", next: Annotated[str, Form()] = "/") -> Response:
    # A plain `def`: Argon2 takes tens of milliseconds of CPU, so it runs in the thread pool.
    email = email.strip().lower()
    if not csrf_matches(request.session, csrf_token):
        return _login_page(request, error=TEXT_EXPIRED, email=email, next_url=next, status_code=400)
    limiter = request.app.state.login_limiter
    ip = client_ip(request)
    keys = (f"ip:{ip}", f"email:{email}")
    if any(limiter.blocked(k) for k in keys):
        return _login_page(request, error=TEXT_RATE_LIMITED, email=email, next_url=next, status_code=429)
    user = authenticate(db, email, password)
    if user is None:
        for key in keys:
            limiter.fail(key)
        record(db, email or "-", "login.failed", email or None, {}, ip)
        db.commit()
        return _login_page(request, error=TEXT_BAD_CREDENTIALS, email=email, next_url=next, status_code=401)
    limiter.reset(f"email:{email}")
    record(db, user.email, "login", user.email, {}, ip)
    db.commit()
    # A fresh session (and CSRF token) at sign-in: a token planted before sign-in is worthless.
    request.session.clear()
    request.session.update({
        "uid": user.id,
        "fp": password_fingerprint(user.password_hash, request.app.state.secret_key),
        "csrf": new_csrf_token(),
    })
    return RedirectResponse(safe_next(next), status_code=303)


@private.post("/logout")
def logout(request: Request, db: DB, user: CurrentUser,
           csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "") -> Response:
    if not csrf_matches(request.session, csrf_token):
        return render(request, "error.html", {"status": 403, "message": TEXT_EXPIRED}, status_code=403)
    record(db, user.email, "logout", user.email, {}, client_ip(request))
    db.commit()
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
