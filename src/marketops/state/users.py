"""People who sign in: creation, password checks, roles, and the first admin.

Passwords are hashed with Argon2id (argon2-cffi's defaults, the OWASP recommendation); a hash made
with older parameters is upgraded at the next successful sign-in. Functions take a session and
flush; the caller commits (see :func:`marketops.state.db.session_scope`).

Example:
    >>> from marketops.state.db import init_db, session_scope
    >>> _ = init_db("sqlite://")
    >>> with session_scope("sqlite://") as s:
    ...     u = create_user(s, "Bo@Acme.test", "correct horse battery", role="viewer")
    ...     u.email, u.password_hash.startswith("$argon2id$")
    ('bo@acme.test', True)
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketops.errors import MarketopsError, NotFound, unknown_name
from marketops.state.audit import SYSTEM, record
from marketops.state.db import init_db, session_scope
from marketops.state.models import ROLES, User, utcnow

MIN_PASSWORD_LENGTH = 10
DEFAULT_ADMIN_EMAIL = "admin@localhost"

_hasher = PasswordHasher()
# Verified against when the email is unknown, so a failed sign-in takes as long either way and
# response times do not reveal which emails have accounts.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class InvalidUser(MarketopsError):
    """A user cannot be created or changed as asked (bad email, short password, duplicate)."""


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively; store them trimmed and lower-case.

    Example:
        >>> normalise_email("  Ana@ACME.test ")
        'ana@acme.test'
    """
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or not domain or " " in email:
        raise InvalidUser(f"'{email}' is not an email address (expected name@domain)")
    return email


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise unknown_name("role", role, ROLES)
    return role


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password``; refuses passwords shorter than MIN_PASSWORD_LENGTH."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidUser(f"the password is too short: use at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def get_user(session: Session, email: str) -> User | None:
    """The user with ``email`` (any case), or None."""
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def _require(session: Session, email: str) -> User:
    user = get_user(session, email)
    if user is None:
        raise NotFound(f"no user with email '{email}'",
                       hint="list users with `marketops users list`")
    return user


def create_user(session: Session, email: str, password: str, *, role: str = "viewer", name: str = "",
                actor: str = SYSTEM, ip: str | None = None) -> User:
    """Create a user; the email must be new and the password long enough."""
    email = normalise_email(email)
    _check_role(role)
    if get_user(session, email) is not None:
        raise InvalidUser(f"a user with email '{email}' already exists")
    user = User(email=email, name=name.strip(), role=role, password_hash=hash_password(password),
                created_at=utcnow(), active=True)
    session.add(user)
    session.flush()
    record(session, actor, "user.create", email, {"role": role}, ip)
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with these credentials (and its last_login_at updated), else None.

    Example:
        >>> from marketops.state.db import init_db, session_scope
        >>> _ = init_db("sqlite://")
        >>> with session_scope("sqlite://") as s:
        ...     _ = create_user(s, "cy@acme.test", "correct horse battery")
        ...     authenticate(s, "cy@acme.test", "wrong password") is None
        True
    """
    try:
        user = get_user(session, email)
    except InvalidUser:
        user = None
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    session.flush()
    return user


def set_password(session: Session, email: str, password: str, *, actor: str = SYSTEM,
                 ip: str | None = None) -> User:
    """Replace a user's password (this also ends the user's web sessions)."""
    user = _require(session, email)
    user.password_hash = hash_password(password)
    session.flush()
    record(session, actor, "user.password", user.email, {}, ip)
    return user


def set_role(session: Session, email: str, role: str, *, actor: str = SYSTEM, ip: str | None = None) -> User:
    """Change a user's role; the last active admin cannot be demoted (nobody could manage users)."""
    user = _require(session, email)
    _check_role(role)
    if user.role == "admin" and role != "admin" and _active_admins(session) <= 1:
        raise InvalidUser(f"'{user.email}' is the only admin; make someone else admin first")
    before, user.role = user.role, role
    session.flush()
    record(session, actor, "user.role", user.email, {"from": before, "to": role}, ip)
    return user


def set_active(session: Session, email: str, active: bool, *, actor: str = SYSTEM,
               ip: str | None = None) -> User:
    """Deactivate (or reactivate) a user: an inactive user cannot sign in, their web sessions end
    and their API tokens stop working; nothing is deleted. The last active admin stays active.

    Example:
        >>> from marketops.state.db import init_db, session_scope
        >>> _ = init_db("sqlite://")
        >>> with session_scope("sqlite://") as s:
        ...     _ = create_user(s, "dan@acme.test", "correct horse battery")
        ...     set_active(s, "dan@acme.test", False).active
        False
    """
    user = _require(session, email)
    if user.active == active:
        return user
    if not active and user.role == "admin" and _active_admins(session) <= 1:
        raise InvalidUser(f"'{user.email}' is the only admin; make someone else admin first")
    user.active = active
    session.flush()
    record(session, actor, "user.activate" if active else "user.deactivate", user.email, {}, ip)
    return user


def set_language(session: Session, email: str, language: str | None, *, actor: str = SYSTEM,
                 ip: str | None = None) -> User:
    """Set the web app's language for a user; None (or "") goes back to the workspace's language.

    ``language`` is a code of the app's languages (``en``, ``it``...); this layer cannot import
    the web app, so the caller checks the code against ``marketops.app.i18n.LANGUAGES``.
    """
    user = _require(session, email)
    language = (language or "").strip().lower() or None
    if language is not None and (len(language) > 8 or not language.replace("-", "").isalpha()):
        raise InvalidUser(f"'{language}' is not a language code")
    if user.language != language:
        before, user.language = user.language, language
        session.flush()
        record(session, actor, "user.language", user.email, {"from": before, "to": language}, ip)
    return user


def remove_user(session: Session, email: str, *, actor: str = SYSTEM, ip: str | None = None) -> None:
    """Delete a user and their API tokens; the last active admin cannot be removed."""
    user = _require(session, email)
    if user.role == "admin" and user.active and _active_admins(session) <= 1:
        raise InvalidUser(f"'{user.email}' is the only admin; make someone else admin first")
    session.delete(user)
    session.flush()
    record(session, actor, "user.remove", email.strip().lower(), {}, ip)


def list_users(session: Session) -> list[User]:
    """Every user, by email."""
    return list(session.scalars(select(User).order_by(User.email)))


def _active_admins(session: Session) -> int:
    # Rows locked (PostgreSQL): two admins demoting the last two admins at once must not both succeed.
    return len(session.scalars(select(User.id).where(User.role == "admin", User.active.is_(True))
                               .with_for_update()).all())


def ensure_admin(url: str, email: str | None = None, password: str | None = None) -> tuple[str, str] | None:
    """Create the first admin when the database has no user yet; return (email, password) then.

    The password is generated when none is given: the caller (the CLI) shows it once; it is
    never logged or stored in clear. Returns None when users already exist.

    Example:
        >>> import tempfile, pathlib
        >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'app.sqlite'}"
        >>> email, password = ensure_admin(url)
        >>> email, len(password) >= MIN_PASSWORD_LENGTH
        ('admin@localhost', True)
        >>> ensure_admin(url) is None
        True
    """
    init_db(url)
    with session_scope(url) as session:
        if session.scalar(select(func.count()).select_from(User)):
            return None
        email = normalise_email(email or DEFAULT_ADMIN_EMAIL)
        password = password or secrets.token_urlsafe(15)
        create_user(session, email, password, role="admin", name="Administrator")
        return email, password
