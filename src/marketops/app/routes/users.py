"""``GET /settings/users``: who can sign in, with which role (admins only)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from marketops.app.deps import DB, AdminUser
from marketops.app.render import render
from marketops.state.tokens import list_tokens
from marketops.state.users import list_users

router = APIRouter()


@router.get("/settings/users")
def users_page(request: Request, db: DB, admin: AdminUser) -> Response:
    users = list_users(db)
    tokens = {}
    for token in list_tokens(db):
        if token.revoked_at is None:
            tokens[token.user_id] = tokens.get(token.user_id, 0) + 1
    return render(request, "users.html", {"users": users, "tokens": tokens})
