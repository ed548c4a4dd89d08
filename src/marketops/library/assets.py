"""The register of digital assets: what the team may use (a file path or a URL), its type, tags,
owner, the usage rights in words, and the last day those rights hold.

*Expiry status*, judged on a given day with ``library.asset_expiry_warning_days`` = N:

- ``expired``: the rights ended before today (the asset must not be used any more);
- ``expiring``: they end today or within N days;
- ``ok``: they end later, or never (no end date).

Every change is audited with target ``asset:<id>``.

Example:
    >>> from datetime import date
    >>> expiry_status(date(2026, 5, 1), today=date(2026, 5, 2), days=30)
    'expired'
    >>> expiry_status(date(2026, 5, 31), today=date(2026, 5, 2), days=30), expiry_status(None, today=date(2026, 5, 2))
    ('expiring', 'ok')
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketops.errors import NotFound, ValidationFailed, did_you_mean
from marketops.library.config import DEFAULT_ASSET_TYPES
from marketops.state import audit
from marketops.state.library import Asset

EXPIRY_STATUSES = ("expired", "expiring", "ok")
#: Fields a change may touch.
FIELDS = ("name", "type", "location", "tags", "owner", "usage_rights", "expires_on", "notes")
#: The columns of a CSV/XLSX download, and of ``assets list --csv``.
EXPORT_COLUMNS = ("id", "name", "type", "location", "tags", "owner", "usage_rights", "expires_on", "status",
                  "days_left", "notes", "created_by", "created_at", "updated_at")
LIMITS = {"name": 300, "location": 2000, "owner": 320, "usage_rights": 10_000, "notes": 10_000}


def expiry_status(expires_on: dt.date | None, *, today: dt.date | None = None, days: int = 30) -> str:
    """``expired``, ``expiring`` (ends within ``days`` days, today included) or ``ok``."""
    if expires_on is None:
        return "ok"
    today = today or dt.date.today()
    if expires_on < today:
        return "expired"
    return "expiring" if (expires_on - today).days <= days else "ok"


def days_left(expires_on: dt.date | None, today: dt.date | None = None) -> int | None:
    """Days until the rights end (negative: ended that many days ago); None without an end date.

    >>> days_left(dt.date(2026, 5, 10), dt.date(2026, 5, 1)), days_left(dt.date(2026, 4, 30), dt.date(2026, 5, 1))
    (9, -1)
    """
    return None if expires_on is None else (expires_on - (today or dt.date.today())).days


def target(asset_id: int) -> str:
    return f"asset:{asset_id}"


# -- checks ---------------------------------------------------------------------------------------------
def check_type(value: Any, types: Sequence[str] = DEFAULT_ASSET_TYPES) -> str:
    """An asset type from ``types`` (case-insensitive), else ValidationFailed with "did you mean".

    >>> check_type("Logo")
    'logo'
    >>> check_type("imgae")
    Traceback (most recent call last):
    ...
    marketops.errors.ValidationFailed: unknown asset type 'imgae' (did you mean 'image'?); valid: image, video, document, logo, presentation, audio, font, template, other
    """
    t = str(value or "").strip().lower()
    if not t:
        raise ValidationFailed(f"an asset needs a type: {', '.join(types)}")
    if t not in types:
        raise ValidationFailed(f"unknown asset type '{value}'{did_you_mean(t, types)}; valid: {', '.join(types)}")
    return t


def check_tags(value: Any) -> list[str]:
    """Tags from a list or a comma-separated text: trimmed, lower case, no duplicates.

    >>> check_tags("Brand, social ,brand")
    ['brand', 'social']
    """
    if value is None or value == "":
        return []
    items = value if isinstance(value, (list, tuple)) else re.split(r"[,;]", str(value))
    out: list[str] = []
    for item in items:
        t = " ".join(str(item).split()).lower()
        if len(t) > 60:
            raise ValidationFailed(f"a tag has at most 60 characters: '{t[:60]}…'")
        if t and t not in out:
            out.append(t)
    return out


def check_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise ValidationFailed(f"the expiry date must be a date like 2027-01-31, not '{value}'") from None


def _text(value: Any, name: str, *, required: bool = False) -> str:
    text = str(value or "").strip()
    if name in ("name", "owner"):
        text = " ".join(text.split())
    if required and not text:
        raise ValidationFailed(f"an asset needs a {name}")
    if len(text) > LIMITS[name]:
        raise ValidationFailed(f"an asset's {name.replace('_', ' ')} has at most {LIMITS[name]:,} characters; "
                               f"this one has {len(text):,}")
    return text


def _location(value: Any) -> str:
    loc = _text(value, "location")
    if re.match(r"^\s*(javascript|data|vbscript):", loc, re.IGNORECASE):
        raise ValidationFailed("the location is a file path or an http(s) URL, not a script")
    return loc


def _clean(changes: Mapping[str, Any], types: Sequence[str]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise ValidationFailed(f"cannot change '{unknown[0]}' of an asset{did_you_mean(unknown[0], FIELDS)}; "
                               f"fields: {', '.join(FIELDS)}")
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "name":
            out[key] = _text(value, "name", required=True)
        elif key == "type":
            out[key] = check_type(value, types)
        elif key == "location":
            out[key] = _location(value)
        elif key == "tags":
            out[key] = check_tags(value)
        elif key == "expires_on":
            out[key] = check_date(value)
        else:
            out[key] = _text(value, key)
    return out


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


# -- changing -------------------------------------------------------------------------------------------
def create_asset(session: Session, *, name: str, type: str, actor: str, location: str = "",
                 tags: Any = None, owner: str = "", usage_rights: str = "", expires_on: Any = None,
                 notes: str = "", types: Sequence[str] = DEFAULT_ASSET_TYPES, ip: str | None = None) -> Asset:
    """Add an asset to the register (audited as ``asset.create``)."""
    fields = _clean({"name": name, "type": type, "location": location, "tags": tags, "owner": owner,
                     "usage_rights": usage_rights, "expires_on": expires_on, "notes": notes}, types)
    asset = Asset(**fields, created_by=actor)
    session.add(asset)
    session.flush()
    audit.record(session, actor, "asset.create", target(asset.id),
                 {k: _plain(v) for k, v in fields.items() if v not in (None, "", [])}, ip)
    return asset


def get_asset(session: Session, asset_id: int) -> Asset:
    asset = session.get(Asset, asset_id)
    if asset is None:
        raise NotFound(f"there is no asset with id {asset_id}; `marketops assets list` shows them")
    return asset


def update_asset(session: Session, asset_id: int, changes: Mapping[str, Any], *, actor: str,
                 types: Sequence[str] = DEFAULT_ASSET_TYPES, ip: str | None = None) -> Asset:
    """Change some fields (audited as ``asset.update`` with what changed; no change, no event)."""
    asset = get_asset(session, asset_id)
    fields = _clean(changes, types)
    changed = {}
    for key, value in fields.items():
        before = getattr(asset, key)
        if before != value:
            changed[key] = {"from": _plain(before), "to": _plain(value)}
            setattr(asset, key, value)
    if changed:
        session.flush()
        audit.record(session, actor, "asset.update", target(asset.id), {"changes": changed}, ip)
    return asset


def delete_asset(session: Session, asset_id: int, *, actor: str, ip: str | None = None) -> None:
    """Remove an asset from the register (its history stays in the audit log)."""
    asset = get_asset(session, asset_id)
    audit.record(session, actor, "asset.delete", target(asset.id), {"name": asset.name, "type": asset.type}, ip)
    session.delete(asset)
    session.flush()


# -- reading --------------------------------------------------------------------------------------------
def list_assets(session: Session, *, type: str | None = None, tag: str | None = None, owner: str | None = None,
                status: str | None = None, q: str | None = None, today: dt.date | None = None,
                days: int = 30) -> list[Asset]:
    """Assets matching every filter given: expired first, then by expiry date (none last), then name.
    ``q`` matches part of the name, location or usage rights; ``owner`` the owner exactly (any case)."""
    query = select(Asset)
    if type:
        query = query.where(Asset.type == str(type).strip().lower())
    if owner:
        query = query.where(func.lower(Asset.owner) == owner.strip().lower())
    if q and q.strip():
        needle = q.strip().lower()
        query = query.where(func.lower(Asset.name).contains(needle, autoescape=True)
                            | func.lower(Asset.location).contains(needle, autoescape=True)
                            | func.lower(Asset.usage_rights).contains(needle, autoescape=True))
    rows = list(session.scalars(query.order_by(Asset.id)))
    if tag:
        wanted = tag.strip().lower()
        rows = [a for a in rows if wanted in (a.tags or [])]
    if status:
        s = str(status).strip().lower()
        if s not in EXPIRY_STATUSES:
            raise ValidationFailed(f"unknown expiry status '{status}'{did_you_mean(s, EXPIRY_STATUSES)}; valid: "
                                   f"{', '.join(EXPIRY_STATUSES)}")
        rows = [a for a in rows if expiry_status(a.expires_on, today=today, days=days) == s]
    order = {s: i for i, s in enumerate(EXPIRY_STATUSES)}
    return sorted(rows, key=lambda a: (order[expiry_status(a.expires_on, today=today, days=days)],
                                       a.expires_on or dt.date.max, a.name.lower(), a.id))


def expiring_assets(session: Session, *, today: dt.date | None = None, days: int = 30) -> list[Asset]:
    """Expired assets and those expiring within ``days`` days, the soonest (most overdue) first."""
    return [a for a in list_assets(session, today=today, days=days)
            if expiry_status(a.expires_on, today=today, days=days) != "ok"]


def facets(session: Session) -> dict[str, list[str]]:
    """Every type, tag and owner in the register (for filter menus)."""
    types, tags, owners = set(), set(), set()
    for t, tg, o in session.execute(select(Asset.type, Asset.tags, Asset.owner)):
        types.add(t)
        tags.update(tg or [])
        if o:
            owners.add(o)
    return {"types": sorted(types), "tags": sorted(tags), "owners": sorted(owners)}


def status_counts(assets: Iterable[Asset], *, today: dt.date | None = None, days: int = 30) -> dict[str, int]:
    out = {s: 0 for s in EXPIRY_STATUSES}
    for a in assets:
        out[expiry_status(a.expires_on, today=today, days=days)] += 1
    return out


def asset_row(asset: Asset, *, today: dt.date | None = None, days: int = 30) -> dict[str, Any]:
    """One flat row (tags joined by ', '): the CSV/XLSX download and the CLI table."""
    return {"id": asset.id, "name": asset.name, "type": asset.type, "location": asset.location,
            "tags": ", ".join(asset.tags or []), "owner": asset.owner, "usage_rights": asset.usage_rights,
            "expires_on": asset.expires_on, "status": expiry_status(asset.expires_on, today=today, days=days),
            "days_left": days_left(asset.expires_on, today), "notes": asset.notes, "created_by": asset.created_by,
            "created_at": asset.created_at, "updated_at": asset.updated_at}


def asset_json(asset: Asset, *, today: dt.date | None = None, days: int = 30) -> dict[str, Any]:
    """An asset for the API (tags as a list)."""
    return {**asset_row(asset, today=today, days=days), "tags": list(asset.tags or [])}


def warning_text(asset: Asset, today: dt.date | None = None) -> str:
    """What an alert says about an expired or expiring asset.

    >>> a = Asset(name="Hero photo", expires_on=dt.date(2026, 5, 10), owner="Bea")
    >>> warning_text(a, dt.date(2026, 5, 1))
    "The usage rights of 'Hero photo' end on 2026-05-10 (in 9 days); owner: Bea."
    >>> warning_text(a, dt.date(2026, 5, 12))
    "The usage rights of 'Hero photo' ended on 2026-05-10 (2 days ago): stop using it; owner: Bea."
    """
    left = days_left(asset.expires_on, today)
    who = f"owner: {asset.owner}." if asset.owner else "nobody owns it."
    if left is None:
        return f"'{asset.name}' has no end date; {who}"
    if left < 0:
        n = -left
        return (f"The usage rights of '{asset.name}' ended on {asset.expires_on.isoformat()} "
                f"({n} day{'s' if n != 1 else ''} ago): stop using it; {who}")
    when = "today" if left == 0 else f"in {left} day{'s' if left != 1 else ''}"
    return f"The usage rights of '{asset.name}' end on {asset.expires_on.isoformat()} ({when}); {who}"


def asset_alerts(session: Session, today: dt.date, days: int = 30) -> list[Any]:
    """Expired (critical) and expiring (warning) assets as :class:`marketops.plan.alerts.Alert`
    objects of kind ``asset``, ready for the alerts page and the digest to list."""
    from marketops.plan.alerts import Alert

    out = []
    for a in expiring_assets(session, today=today, days=days):
        expired = expiry_status(a.expires_on, today=today, days=days) == "expired"
        out.append(Alert("asset", "critical" if expired else "warning",
                         f"{'Asset rights expired' if expired else 'Asset rights expiring'}: {a.name}",
                         warning_text(a, today), f"/assets/{a.id}", a.owner or None, f"asset:{a.id}",
                         "expired" if expired else "expiring",
                         detail={"asset_id": a.id, "expires_on": a.expires_on.isoformat(),
                                 "days_left": days_left(a.expires_on, today), "type": a.type}))
    return out


__all__ = ["EXPIRY_STATUSES", "EXPORT_COLUMNS", "FIELDS", "asset_alerts", "asset_json", "asset_row", "check_tags",
           "check_type", "create_asset", "days_left", "delete_asset", "expiring_assets", "expiry_status", "facets",
           "get_asset", "list_assets", "status_counts", "update_asset", "warning_text"]
