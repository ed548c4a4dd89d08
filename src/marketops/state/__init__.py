"""App state: users, roles, API tokens, the audit log, merge decisions, the plan (goals,
initiatives, tasks, budgets) and the routing decisions of MQLs, kept in a SQL database.

SQLite in the workspace (``.marketops/app.sqlite``) by default, PostgreSQL in production
(``MARKETOPS_DATABASE_URL``). The schema is managed by Alembic migrations shipped inside this
package, so ``init_db(url)`` works from a wheel install as well as from a checkout.

Example:
    >>> from marketops.state import init_db, session_scope, create_user, authenticate
    >>> url = "sqlite://"  # in memory: one connection shared, see db.make_engine
    >>> _ = init_db(url)
    >>> with session_scope(url) as s:
    ...     _ = create_user(s, "ana@acme.test", "a long passphrase", role="editor")
    >>> with session_scope(url) as s:
    ...     authenticate(s, "ana@acme.test", "a long passphrase").role
    'editor'
"""

from marketops.state.alerts import AlertDigest
from marketops.state.audit import record
from marketops.state.db import dispose, init_db, make_engine, session_factory, session_scope
from marketops.state.models import ROLES, SCOPES, ApiToken, AuditEvent, MergeDecision, User
from marketops.state.planning import BudgetLine, Goal, GoalProgress, Initiative, Task, TaskComment
from marketops.state.routing import RoutingDecision, RoutingRotation
from marketops.state import library, privacy, stack, utm_links  # noqa: F401  (their tables join Base.metadata)
from marketops.state.tokens import create_token, list_tokens, revoke_token, verify_token
from marketops.state.users import (
    authenticate,
    create_user,
    ensure_admin,
    get_user,
    list_users,
    remove_user,
    set_password,
    set_role,
)

__all__ = [
    "ROLES", "SCOPES", "AlertDigest", "ApiToken", "AuditEvent", "BudgetLine", "Goal", "GoalProgress", "Initiative",
    "MergeDecision", "RoutingDecision", "RoutingRotation", "Task", "TaskComment", "User",
    "authenticate", "create_token", "create_user", "dispose", "ensure_admin", "get_user", "init_db",
    "list_tokens", "list_users", "make_engine", "record", "remove_user", "revoke_token",
    "session_factory", "session_scope", "set_password", "set_role", "verify_token",
]
