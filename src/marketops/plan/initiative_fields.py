"""Checking what people type into an initiative: status, dates, stakeholders and the communication
plan, each refused with a message that names the entry and the field and says what is expected.

Example:
    >>> parse_stakeholder("Ana Rossi <ana@acme.test> (Head of Sales)")
    {'name': 'Ana Rossi', 'role': 'Head of Sales', 'email': 'ana@acme.test'}
    >>> check_communication({"audience": "Sales", "message": "Progress", "channel": "Slack",
    ...                      "frequency": "biweekly"})
    {'audience': 'Sales', 'message': 'Progress', 'channel': 'slack', 'frequency': 'every two weeks'}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from marketops.errors import ValidationFailed, did_you_mean
from marketops.state.planning import INITIATIVE_STATUSES

#: How a message reaches its audience (stored lower-case; shown as written here).
CHANNELS = {"email": "email", "slack": "Slack", "teams": "Teams", "meeting": "meeting", "report": "report",
            "dashboard": "dashboard", "newsletter": "newsletter", "intranet": "intranet", "call": "call",
            "presentation": "presentation"}
#: How often the audience hears about the initiative.
FREQUENCIES = ("daily", "weekly", "every two weeks", "monthly", "quarterly", "at milestones", "once")
_FREQUENCY_ALIASES = {"biweekly": "every two weeks", "bi-weekly": "every two weeks", "fortnightly": "every two weeks",
                      "every 2 weeks": "every two weeks", "every other week": "every two weeks",
                      "milestones": "at milestones", "at each milestone": "at milestones",
                      "at every milestone": "at milestones", "per milestone": "at milestones", "one-off": "once",
                      "one time": "once", "every week": "weekly", "every day": "daily", "every month": "monthly",
                      "every quarter": "quarterly"}
_STATUS_ALIASES = {"canceled": "cancelled", "in progress": "active", "completed": "done"}
_EMAIL = re.compile(r"^[^@\s<>(),;]+@[^@\s<>(),;]+\.[^@\s<>(),;.][^@\s<>(),;]*$")
_STAKEHOLDER = re.compile(r"^(?P<name>[^<>()]*?)\s*(?:<(?P<email>[^<>]*)>)?\s*(?:\((?P<role>[^()]*)\))?$")

LIMITS = {"title": 300, "owner": 320, "persona": 500, "want": 1000, "outcome": 1000, "name": 200, "role": 200,
          "email": 320, "audience": 200, "message": 2000}
#: At most this many stakeholders and communication-plan entries per initiative.
MAX_ENTRIES = 100


def fit(value: Any, field: str, what: str | None = None) -> str:
    """``value`` as stripped text, refused when longer than the column allows.

    >>> fit("  Launch ", "title")
    'Launch'
    >>> fit("x" * 301, "title")
    Traceback (most recent call last):
    ...
    marketops.errors.ValidationFailed: the title is too long (301 characters; at most 300)
    """
    text = " ".join(str(value if value is not None else "").split())
    limit = LIMITS[field]
    if len(text) > limit:
        raise ValidationFailed(f"{what or 'the ' + field} is too long ({len(text):,} characters; at most {limit:,})")
    return text


def check_status(value: str | None) -> str:
    """One of the initiative statuses (case and a few synonyms forgiven).

    >>> check_status("Active"), check_status("canceled")
    ('active', 'cancelled')
    >>> check_status("activ")
    Traceback (most recent call last):
    ...
    marketops.errors.ValidationFailed: unknown status 'activ' (did you mean 'active'?); valid: proposed, planned, active, done, cancelled
    """
    word = " ".join(str(value or "").lower().replace("_", " ").split())
    word = _STATUS_ALIASES.get(word, word)
    if word not in INITIATIVE_STATUSES:
        raise ValidationFailed(f"unknown status '{value}'{did_you_mean(word, INITIATIVE_STATUSES)}; "
                               f"valid: {', '.join(INITIATIVE_STATUSES)}")
    return word


def as_date(value: date | str | None, label: str) -> date | None:
    """A date from a date or an ISO text (``""`` and None: no date).

    >>> as_date("2026-03-31", "start date")
    datetime.date(2026, 3, 31)
    >>> as_date("31/03/2026", "start date")
    Traceback (most recent call last):
    ...
    marketops.errors.ValidationFailed: the start date '31/03/2026' is not a date; use YYYY-MM-DD, e.g. 2026-03-31
    """
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    if not text or text.lower() in ("none", "null"):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"the {label} '{text}' is not a date; use YYYY-MM-DD, e.g. 2026-03-31") from None


def check_dates(start: date | None, end: date | None) -> None:
    """Refuses an end before the start.

    >>> check_dates(date(2026, 3, 1), date(2026, 1, 31))
    Traceback (most recent call last):
    ...
    marketops.errors.ValidationFailed: the end date 2026-01-31 is before the start date 2026-03-01; an initiative ends on or after the day it starts
    """
    if start and end and end < start:
        raise ValidationFailed(f"the end date {end.isoformat()} is before the start date {start.isoformat()}; "
                               "an initiative ends on or after the day it starts")


def parse_stakeholder(text: str) -> dict[str, str]:
    """A stakeholder from ``"Name <email> (role)"`` (email and role optional), checked.

    >>> parse_stakeholder("Bo Chen (CMO)")
    {'name': 'Bo Chen', 'role': 'CMO', 'email': ''}
    """
    match = _STAKEHOLDER.match(" ".join((text or "").split()))
    if match is None:
        raise ValidationFailed(f"cannot read the stakeholder '{text}'; write it as \"Name <email> (role)\", "
                               "e.g. \"Ana Rossi <ana@acme.test> (Head of Sales)\"")
    return check_stakeholder({"name": match["name"], "role": match["role"] or "", "email": match["email"] or ""})


def check_stakeholder(item: Any, number: int | None = None) -> dict[str, str]:
    """A stakeholder ``{"name", "role", "email"}``: a name, an optional role and email (checked).

    >>> check_stakeholder({"name": "Ana", "email": "ana@"}, 2)
    Traceback (most recent call last):
    ...
    marketops.errors.ValidationFailed: stakeholder 2 (Ana): 'ana@' is not an email address
    """
    where = f"stakeholder {number}" if number else "the stakeholder"
    if not isinstance(item, Mapping):
        raise ValidationFailed(f"{where} must be an object with name, role and email")
    unknown = sorted(set(item) - {"name", "role", "email"})
    if unknown:
        raise ValidationFailed(f"{where} has an unknown field '{unknown[0]}'; a stakeholder has name, role and email")
    name = fit(item.get("name"), "name", f"{where}'s name")
    if not name:
        raise ValidationFailed(f"{where} has no name; give each stakeholder a name, e.g. 'Ana Rossi'")
    where = f"{where} ({name})"
    role = fit(item.get("role"), "role", f"{where}'s role")
    email = fit(item.get("email"), "email", f"{where}'s email")
    if email and not _EMAIL.match(email):
        raise ValidationFailed(f"{where}: '{email}' is not an email address")
    return {"name": name, "role": role, "email": email.lower()}


def check_stakeholders(items: Iterable[Any] | None) -> list[dict[str, str]]:
    """Every stakeholder checked; the same person (email, else name) listed twice is refused."""
    people = [check_stakeholder(item, n) for n, item in enumerate(items or [], start=1)]
    _at_most(people, "stakeholders")
    seen: set[str] = set()
    for person in people:
        key = person["email"] or person["name"].lower()
        if key in seen:
            raise ValidationFailed(f"the stakeholder '{person['email'] or person['name']}' is listed twice")
        seen.add(key)
    return people


def _choice(value: Any, where: str, field: str, choices: Iterable[str], aliases: dict[str, str]) -> str:
    word = " ".join(str(value or "").lower().split())
    word = aliases.get(word, word)
    choices = list(choices)
    if not word:
        raise ValidationFailed(f"{where} has no {field}; valid: {', '.join(choices)}")
    if word not in choices:
        raise ValidationFailed(f"{where}: unknown {field} '{value}'{did_you_mean(word, choices)}; "
                               f"valid: {', '.join(choices)}")
    return word


def check_communication(item: Any, number: int | None = None) -> dict[str, str]:
    """One entry of the communication plan: who (audience) is told what (message), how (channel)
    and how often (frequency).

    >>> check_communication({"audience": "Sales", "message": "Status", "channel": "fax", "frequency": "weekly"}, 1)
    Traceback (most recent call last):
    ...
    marketops.errors.ValidationFailed: communication plan entry 1: unknown channel 'fax'; valid: email, slack, teams, meeting, report, dashboard, newsletter, intranet, call, presentation
    """
    where = f"communication plan entry {number}" if number else "the communication plan entry"
    if not isinstance(item, Mapping):
        raise ValidationFailed(f"{where} must be an object with audience, message, channel and frequency")
    unknown = sorted(set(item) - {"audience", "message", "channel", "frequency"})
    if unknown:
        raise ValidationFailed(f"{where} has an unknown field '{unknown[0]}'; an entry has audience, message, "
                               "channel and frequency")
    audience = fit(item.get("audience"), "audience", f"{where}'s audience")
    if not audience:
        raise ValidationFailed(f"{where} has no audience; say who is told, e.g. 'Sales team'")
    message = fit(item.get("message"), "message", f"{where}'s message")
    if not message:
        raise ValidationFailed(f"{where} has no message; say what they are told, e.g. 'progress against the goals'")
    channel = _choice(item.get("channel"), where, "channel", CHANNELS, {"e-mail": "email", "mail": "email",
                                                                        "microsoft teams": "teams"})
    frequency = _choice(item.get("frequency"), where, "frequency", FREQUENCIES, _FREQUENCY_ALIASES)
    return {"audience": audience, "message": message, "channel": channel, "frequency": frequency}


def check_communication_plan(items: Iterable[Any] | None) -> list[dict[str, str]]:
    """Every entry of a communication plan checked."""
    plan = [check_communication(item, n) for n, item in enumerate(items or [], start=1)]
    _at_most(plan, "communication plan entries")
    return plan


def _at_most(items: list, what: str) -> None:
    if len(items) > MAX_ENTRIES:
        raise ValidationFailed(f"too many {what} ({len(items)}; at most {MAX_ENTRIES})")


__all__ = ["CHANNELS", "FREQUENCIES", "LIMITS", "MAX_ENTRIES", "as_date", "check_communication",
           "check_communication_plan", "check_dates", "check_stakeholder", "check_stakeholders", "check_status",
           "fit", "parse_stakeholder"]
