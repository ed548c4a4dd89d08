"""API tokens: random secrets shown once, stored as SHA-256 hashes.

A token has 256 bits of entropy, so a fast hash is enough (nobody can brute-force it) and lets us
look tokens up by hash in one indexed query. The ``mko_`` prefix makes leaked tokens easy to spot
by secret scanners.

Example:
    >>> from marketops.state.db import init_db, session_scope
    >>> from marketops.state.users import create_user
    >>> _ = init_db("sqlite://")
    >>> with session_scope("sqlite://") as s:
    ...     user = create_user(s, "dee@acme.test", "correct horse battery")
    ...     token, secret = create_token(s, user, "dashboard")
    ...     verify_token(s, secret).name, verify_token(s, "mko_wrong")
    ('dashboard', None)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketops.errors import NotFound, ValidationFailed, unknown_name
from marketops.state.audit import SYSTEM, record
from marketops.state.models import SCOPES, ApiToken, User, utcnow

PREFIX = "mko_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


#: The scopes a token of a user with this role may carry: never more than the role could do.
ROLE_SCOPES = {"admin": ("read", "write", "admin"), "editor": ("read", "write"), "viewer": ("read",)}


def create_token(session: Session, user: User, name: str, scopes: Iterable[str] = ("read",), *,
                 actor: str = SYSTEM, ip: str | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user``; return it and its secret, which is never retrievable again.
    A scope above the user's role (a viewer's ``write`` token) is refused."""
    scopes = sorted(set(scopes))
    for scope in scopes:
        if scope not in SCOPES:
            raise unknown_name("scope", scope, SCOPES)
    allowed = ROLE_SCOPES.get(user.role, ("read",))
    above = [s for s in scopes if s not in allowed]
    if above:
        raise ValidationFailed(f"a {user.role} cannot have a token with the {', '.join(above)} scope; "
                           f"allowed: {', '.join(allowed)}")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name.strip() or "token", token_hash=_digest(secret),
                     scopes=scopes, created_at=utcnow())
    session.add(token)
    session.flush()
    record(session, actor, "token.create", f"token:{token.id}", {"user": user.email, "scopes": scopes}, ip)
    return token, secret


def verify_token(session: Session, secret: str) -> ApiToken | None:
    """The live token whose secret this is (its last_used_at updated), or None.

    Revoked tokens and tokens of inactive users do not verify.
    """
    if not secret.startswith(PREFIX):
        return None
    digest = _digest(secret)
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    # The lookup is by hash, so timing reveals nothing about the secret; compare anyway.
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    if token.revoked_at is not None or not token.user.active:
        return None
    token.last_used_at = utcnow()
    session.flush()
    return token


def revoke_token(session: Session, token_id: int, *, actor: str = SYSTEM, ip: str | None = None) -> ApiToken:
    """Revoke a token for good (kept for the audit trail)."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no API token with id {token_id}", hint="list tokens with `marketops tokens list`")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        record(session, actor, "token.revoke", f"token:{token.id}", {"user": token.user.email}, ip)
    return token


def list_tokens(session: Session, user: User | None = None) -> list[ApiToken]:
    """Tokens (of one user, or all), newest first."""
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.scalars(query))
