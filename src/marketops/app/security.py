"""Signed session cookies, CSRF tokens, the secret key and the sign-in rate limit.

The session lives in a cookie signed with itsdangerous (the server keeps no session table): it
holds the user id, a fingerprint of the password hash (so changing a password ends every session)
and the CSRF token. The cookie is HttpOnly, SameSite=Lax, and Secure whenever the request came
over https (directly, or through a proxy that uvicorn trusts for X-Forwarded-Proto).

Example:
    >>> limiter = LoginLimiter(max_failures=2, window_seconds=60)
    >>> limiter.fail("ip:1.2.3.4", now=0); limiter.fail("ip:1.2.3.4", now=1)
    >>> limiter.blocked("ip:1.2.3.4", now=2), limiter.blocked("ip:1.2.3.4", now=62)
    (True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections import deque
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from marketops.errors import ConfigError

SESSION_COOKIE = "marketops_session"
SESSION_MAX_AGE = 14 * 24 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def load_secret_key(state_dir: Path, configured: str | None = None) -> str:
    """``MARKETOPS_SECRET_KEY`` if set, else a random key made once in ``<state_dir>/secret_key`` (0600).

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> load_secret_key(d) == load_secret_key(d), oct((d / "secret_key").stat().st_mode & 0o777)
        (True, '0o600')
    """
    if configured:
        return configured
    path = Path(state_dir) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when two processes start at once, exactly one writes the key, the other reads it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= 32:
            return key
        raise ConfigError(f"{path} is empty or too short", hint="delete it and a new key is made") from None
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key + "\n")
    return key


def password_fingerprint(password_hash: str, secret_key: str) -> str:
    """A short keyed digest of the password hash: sessions made before a password change stop working."""
    return hmac.new(secret_key.encode(), password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(session: dict, submitted: str | None) -> bool:
    """True when ``submitted`` equals the session's CSRF token (compared in constant time)."""
    expected = session.get("csrf")
    return bool(expected and submitted) and hmac.compare_digest(str(expected), str(submitted))


class SessionMiddleware:
    """Puts the signed cookie's dict in ``scope["session"]`` and writes it back when it changed.

    Starlette's own SessionMiddleware fixes the Secure flag at start-up; here it follows the
    scheme of each request, so one deployment works on http://localhost and behind https.
    """

    def __init__(self, app: ASGIApp, secret_key: str, max_age: int = SESSION_MAX_AGE) -> None:
        self.app = app
        self.max_age = max_age
        self.serializer = URLSafeTimedSerializer(secret_key, salt="marketops.session")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = HTTPConnection(scope).cookies.get(SESSION_COOKIE)
        session: dict = {}
        if raw:
            try:
                session = self.serializer.loads(raw, max_age=self.max_age)
            except BadSignature:  # also SignatureExpired: treat as anonymous
                session = {}
        scope["session"] = session
        before = json.dumps(session, sort_keys=True)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                after = scope["session"]
                if json.dumps(after, sort_keys=True) != before:
                    headers = MutableHeaders(scope=message)
                    headers.append("Set-Cookie", self._cookie(after, scope.get("scheme") == "https"))
            await send(message)

        await self.app(scope, receive, send_wrapper)

    def _cookie(self, session: dict, secure: bool) -> str:
        attrs = ["Path=/", "HttpOnly", "SameSite=Lax"] + (["Secure"] if secure else [])
        if session:
            value = self.serializer.dumps(session)
            return f"{SESSION_COOKIE}={value}; Max-Age={self.max_age}; " + "; ".join(attrs)
        return f"{SESSION_COOKIE}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; " + "; ".join(attrs)


class LoginLimiter:
    """Counts failed sign-ins per key (``ip:...``, ``email:...``) in a sliding window.

    Kept in memory: one process serves the app by default; with several workers each keeps its
    own count, which still bounds guessing to workers x max_failures per window.
    """

    def __init__(self, max_failures: int = 5, window_seconds: float = 300, max_keys: int = 100_000) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times

    def blocked(self, key: str, *, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            return len(self._recent(key, now)) >= self.max_failures

    def fail(self, key: str, *, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._failures) >= self.max_keys:
                # Bounded memory under a spray of addresses: forget the stalest keys first.
                for stale in sorted(self._failures, key=lambda k: self._failures[k][-1])[: self.max_keys // 10]:
                    del self._failures[stale]
            times = self._recent(key, now)
            times.append(now)
            self._failures[key] = times

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
