"""What the People pages show: a search over golden records, and one person in full.

A person is a ``golden_people`` row (one per ``person_id``, built by survivorship from every
source record of that human), its source records (``people`` rows with that ``person_id``), the
identity evidence that joined them (``identity_map``, ``identity_pairs``) and a journey timeline
of touchpoints, conversions, lifecycle stages and deals, oldest first.

Searching is a set of Ibis filters on string literals (never SQL built from text), so a search
term is only ever a value: ``' OR 1=1 --`` simply finds nobody. Everything reads the last good
run's published tables and works on DuckDB and PySpark alike; a workspace without a run yet gives
empty results and ``ready=False``.

Example:
    >>> import tempfile, pathlib
    >>> from marketops.workspace import Workspace
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
    >>> page = search_people(ws, "ana")
    >>> page.ready, page.total, page.items
    (False, 0, [])
    >>> ws.close()
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import ibis
import polars as pl
import pyarrow as pa

from marketops.app.render import N_
from marketops.errors import NotFound
from marketops.workspace import Workspace

#: Columns of a search result (those the golden table has).
LIST_COLUMNS = ("person_id", "first_name", "last_name", "email", "phone", "company", "job_title",
                "country", "lifecycle_stage", "sources", "source_records", "created_at", "updated_at")
#: Columns a search looks in (case-insensitive, anywhere in the value).
SEARCH_COLUMNS = ("email", "first_name", "last_name", "company")
#: The golden record card: column and its label, in display order.
GOLDEN_FIELDS = (
    ("email", N_("Email")), ("phone", N_("Phone")), ("company", N_("Company")), ("job_title", N_("Job title")),
    ("seniority", N_("Seniority")), ("job_function", N_("Job function")), ("country", N_("Country")),
    ("region", N_("Region")), ("city", N_("City")), ("postcode", N_("Postcode")), ("address", N_("Address")),
    ("lifecycle_stage", N_("Lifecycle stage")), ("lead_status", N_("Lead status")),
    ("lead_source", N_("Lead source")), ("owner", N_("Owner")), ("unsubscribed", N_("Unsubscribed")),
    ("created_at", N_("Created")), ("updated_at", N_("Updated")),
)
#: Columns of a source record as the page shows them.
SOURCE_COLUMNS = ("record_key", "_source_system", "_source_file", "_source_row", "email", "first_name",
                  "last_name", "phone", "company", "job_title", "country", "lifecycle_stage", "created_at",
                  "updated_at", "account_match")
#: Normalised columns whose rejected values are shown next to the source record.
CHECKED_COLUMNS = ("email", "phone", "first_name", "last_name", "full_name", "company", "country", "job_title")
#: At most this many events of each kind on the timeline (the newest are kept).
TIMELINE_LIMIT = 500
MAX_QUERY = 200
_PHONE_LIKE = re.compile(r"[\d\s()+./-]+")


@dataclass
class PeoplePage:
    """One page of search results and how many people match in all."""

    items: list[dict[str, Any]]
    total: int
    ready: bool = True  # False: no run has built golden records yet


@dataclass
class TimelineEvent:
    """One moment of a person's journey."""

    at: Any  # datetime
    kind: str  # touchpoint, conversion, stage, deal_created, deal_won, deal_lost
    title: str
    channel: str | None = None
    detail: str | None = None
    amount: Any = None
    currency: str | None = None
    source_system: str | None = None
    record_key: str | None = None


@dataclass
class PersonDetail:
    person_id: str
    name: str
    golden: dict[str, Any]
    fields: list[dict[str, Any]]  # the golden card: column, label, value, and where it came from
    sources: list[dict[str, Any]]
    identity: list[dict[str, Any]]
    pairs: list[dict[str, Any]]
    timeline: list[TimelineEvent]
    timeline_truncated: bool
    deals: list[dict[str, Any]]
    account: dict[str, Any] | None
    stage: str | None
    counts: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["timeline"] = [asdict(e) for e in self.timeline]
        return data


def _has(ws: Workspace, name: str) -> bool:
    return ws.engine.has_table(name)


def _rows(expr: ibis.Table) -> list[dict[str, Any]]:
    return expr.to_pyarrow().to_pylist()


def display_name(row: dict[str, Any]) -> str:
    """'First Last', else the email, else the id.

    >>> display_name({"first_name": "Ana", "last_name": None, "email": "a@x.io"})
    'Ana'
    >>> display_name({"person_id": "P1"})
    'P1'
    """
    name = " ".join(p for p in (row.get("first_name"), row.get("last_name")) if p)
    return name or row.get("email") or row.get("person_id") or ""


@dataclass(frozen=True)
class SearchIndex:
    """What a search looks at, for every golden person, newest first: built once per published
    run (the app keeps it in its analysis cache), so a search is a scan of strings in memory plus
    one small query for the page's rows, not six case-folding filters over the warehouse."""

    person_ids: pl.Series
    text: pl.Series  # lower-cased email, first name, last name, company and "first last", \x1f-separated
    phones: pl.Series  # the phone's digits

    def find(self, q: str, *, limit: int, offset: int) -> tuple[list[str], int]:
        """The ids of the page of matches (newest first) and how many match in all."""
        needle = _SEPARATOR.sub(" ", q.lower())
        hit = self.text.str.contains(needle, literal=True)
        digits = re.sub(r"\D", "", q)
        # Phones are stored E.164 ("+393331234567"): look for the digits the user typed, whatever
        # spaces, dashes or brackets they used.
        if len(digits) >= 3 and _PHONE_LIKE.fullmatch(q):
            hit = hit | self.phones.str.contains(digits, literal=True)
        matched = self.person_ids.filter(hit.fill_null(False))
        return matched.slice(offset, limit).to_list(), matched.len()


_SEPARATOR = re.compile("\x1f")


def search_index(ws: Workspace) -> SearchIndex:
    """The search index of the workspace's golden people (see :class:`SearchIndex`)."""
    if not _has(ws, "golden_people"):
        return SearchIndex(pl.Series([], dtype=pl.String), pl.Series([], dtype=pl.String),
                           pl.Series([], dtype=pl.String))
    g = ws.table("golden_people")
    order = [g[c].desc(nulls_first=False) for c in ("updated_at", "created_at") if c in g.columns]

    def text(column: str) -> ibis.StringValue:
        return g[column].cast("string").lower().fill_null("") if column in g.columns else ibis.literal("")

    parts = [text(c) for c in SEARCH_COLUMNS]
    full = text("first_name") + " " + text("last_name")
    joined = parts[0]
    for part in [*parts[1:], full]:
        joined = joined + "\x1f" + part
    phone = g.phone.cast("string").re_replace(r"\D", "").fill_null("") if "phone" in g.columns else ibis.literal("")
    frame = pl.from_arrow(g.order_by([*order, g.person_id]).select(
        person_id=g.person_id.cast("string"), text=joined, phone=phone).to_pyarrow())
    return SearchIndex(frame["person_id"], frame["text"], frame["phone"])


def search_people(ws: Workspace, q: str = "", *, limit: int | None = 50, offset: int = 0,
                  index: SearchIndex | None = None) -> PeoplePage:
    """Golden people whose email, name, company or phone contains ``q`` (case-insensitive);
    all of them when ``q`` is empty. Most recently updated first; ``limit=None``: every match (a
    download). ``index``: a :func:`search_index` of the same data, kept between searches (built
    here when not given)."""
    if not _has(ws, "golden_people"):
        return PeoplePage([], 0, ready=False)
    q = (q or "").strip()[:MAX_QUERY]
    index = index if index is not None else search_index(ws)
    if q:
        ids, total = index.find(q, limit=limit, offset=offset)
    else:
        ids, total = index.person_ids.slice(offset, limit).to_list(), index.person_ids.len()
    if not ids:
        return PeoplePage([], total)
    g = ws.table("golden_people")
    columns = [c for c in LIST_COLUMNS if c in g.columns]
    found = {r["person_id"]: r for r in _rows(_only(g, ids).select(*columns))}
    rows = [found[i] for i in ids if i in found]
    stages = _current_stages(ws, [r["person_id"] for r in rows])
    for r in rows:
        r["name"] = display_name(r)
        r["stage"] = stages.get(r["person_id"]) or r.get("lifecycle_stage")
    return PeoplePage(rows, total)


def _only(t: ibis.Table, person_ids: list[str]) -> ibis.Table:
    """Rows of ``t`` for these people: a filter for a page, a join for a download of thousands."""
    if len(person_ids) <= 1000:
        return t.filter(t.person_id.isin(person_ids))
    wanted = ibis.memtable(pa.table({"_pid": pa.array(person_ids, pa.string())}))
    return t.join(wanted, t.person_id.cast("string") == wanted._pid).drop("_pid")


def _current_stages(ws: Workspace, person_ids: list[str]) -> dict[str, str]:
    """The lifecycle stage each person entered last (from ``lifecycle_stages``)."""
    if not person_ids or not _has(ws, "lifecycle_stages"):
        return {}
    ls = ws.table("lifecycle_stages")
    if not {"person_id", "stage", "entered_at"} <= set(ls.columns):
        return {}
    ls = _only(ls, person_ids)
    ls = ls.filter(ls.stage.notnull())
    w = ibis.window(group_by=ls.person_id, order_by=[ls.entered_at.desc(nulls_first=False), ls.record_key.desc()])
    latest = ls.mutate(_n=ibis.row_number().over(w))
    latest = latest.filter(latest._n == 0).select("person_id", "stage")
    return {r["person_id"]: r["stage"] for r in _rows(latest)}


def person_detail(ws: Workspace, person_id: str) -> PersonDetail:
    """Everything known about one person; NotFound when no golden record has ``person_id``."""
    if not _has(ws, "golden_people"):
        raise NotFound("no people yet: load files on Imports, then start a run")
    g = ws.table("golden_people")
    found = _rows(g.filter(g.person_id == person_id).limit(1))
    if not found:
        raise NotFound(f"no person with id '{person_id}'")
    golden = found[0]
    sources = _source_records(ws, person_id)
    keys = [s["record_key"] for s in sources]
    by_key = {s["record_key"]: s for s in sources}
    contributors = _contributors(golden.get("contributors"))
    fields = []
    for column, label in GOLDEN_FIELDS:
        if column not in golden:
            continue
        origin = by_key.get(contributors.get(column) or "")
        fields.append({"column": column, "label": label, "value": golden[column],
                       "record_key": contributors.get(column),
                       "source_system": origin["_source_system"] if origin else None,
                       "source_file": origin["_source_file"] if origin else None,
                       "source_row": origin["_source_row"] if origin else None})
    deals = _deals(ws, person_id)
    timeline, truncated = _timeline(ws, person_id, deals)
    stages = _current_stages(ws, [person_id])
    identity = _identity(ws, keys)
    for match in identity:
        record = by_key.get(match["record_key"])
        if record is not None:
            record["match_rule"] = match.get("match_rule")
            record["match_probability"] = match.get("match_probability")
    golden = {k: v for k, v in golden.items() if k != "contributors"}
    golden["contributors"] = contributors
    return PersonDetail(
        person_id=person_id, name=display_name(golden), golden=golden, fields=fields, sources=sources,
        identity=identity, pairs=_pairs(ws, keys), timeline=timeline, timeline_truncated=truncated,
        deals=deals, account=_account(ws, golden.get("account_id")),
        stage=stages.get(person_id) or golden.get("lifecycle_stage"),
        counts={kind: sum(1 for e in timeline if e.kind == kind) for kind in ("touchpoint", "conversion")},
    )


def _contributors(raw: Any) -> dict[str, str]:
    if not raw:
        return {}
    try:
        data = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except (ValueError, TypeError):
        return {}
    return {str(k): str(v) for k, v in data.items() if v}


def _source_records(ws: Workspace, person_id: str) -> list[dict[str, Any]]:
    if not _has(ws, "people"):
        return []
    p = ws.table("people")
    if "person_id" not in p.columns:
        return []
    issues = [f"{c}_issue" for c in CHECKED_COLUMNS if f"{c}_issue" in p.columns]
    originals = [f"{c}_original" for c in CHECKED_COLUMNS if f"{c}_issue" in p.columns and f"{c}_original" in p.columns]
    columns = [c for c in SOURCE_COLUMNS if c in p.columns] + issues + originals
    rows = _rows(p.filter(p.person_id == person_id).select(*columns)
                 .order_by([p._source_system, p._source_file, p._source_row]))
    for r in rows:
        r["name"] = display_name(r)
        r["issues"] = [{"column": c.removesuffix("_issue"), "value": r.get(c.removesuffix("_issue") + "_original"),
                        "reason": r[c]} for c in issues if r.get(c)]
        for c in issues + originals:
            r.pop(c, None)
    return rows


def _identity(ws: Workspace, keys: list[str]) -> list[dict[str, Any]]:
    """How each source record was assigned to the person (rule and probability)."""
    if not keys or not _has(ws, "identity_map"):
        return []
    m = ws.table("identity_map")
    columns = [c for c in ("record_key", "source_system", "match_rule", "match_probability") if c in m.columns]
    return _rows(m.filter(m.record_key.isin(keys)).select(*columns).order_by("record_key"))


def _pairs(ws: Workspace, keys: list[str]) -> list[dict[str, Any]]:
    """Scored pairs that touch the person's records, with the evidence per column."""
    if not keys or not _has(ws, "identity_pairs"):
        return []
    p = ws.table("identity_pairs")
    needed = {"pair_id", "record_key_l", "record_key_r", "match_probability"}
    if not needed <= set(p.columns):
        return []
    columns = [c for c in ("pair_id", "record_key_l", "record_key_r", "match_probability", "status", "evidence")
               if c in p.columns]
    rows = _rows(p.filter(p.record_key_l.isin(keys) | p.record_key_r.isin(keys)).select(*columns)
                 .order_by([p.match_probability.desc(), p.pair_id]).limit(50))
    for r in rows:
        try:
            r["evidence"] = json.loads(r.get("evidence") or "[]")
        except ValueError:
            r["evidence"] = []
    return rows


def _account(ws: Workspace, account_id: str | None) -> dict[str, Any] | None:
    if not account_id or not _has(ws, "golden_accounts"):
        return None
    a = ws.table("golden_accounts")
    columns = [c for c in ("account_id", "name", "domain", "industry", "employees", "country") if c in a.columns]
    found = _rows(a.filter(a.account_id == account_id).select(*columns).limit(1))
    return found[0] if found else None


def _events(ws: Workspace, name: str, person_id: str, time_column: str, columns: tuple[str, ...]):
    """The person's newest rows of table ``name`` (at most TIMELINE_LIMIT) and whether more exist."""
    if not _has(ws, name):
        return [], False
    t = ws.table(name)
    if "person_id" not in t.columns or time_column not in t.columns:
        return [], False
    present = [c for c in (time_column, *columns) if c in t.columns]
    mine = t.filter(t.person_id == person_id)
    rows = _rows(mine.select(*present).order_by(t[time_column].desc(nulls_first=False))
                 .limit(TIMELINE_LIMIT + 1))
    return rows[:TIMELINE_LIMIT], len(rows) > TIMELINE_LIMIT


def _timeline(ws: Workspace, person_id: str, deals: list[dict[str, Any]]) -> tuple[list[TimelineEvent], bool]:
    events: list[TimelineEvent] = []
    touches, more_t = _events(ws, "touchpoints", person_id, "occurred_at",
                              ("type", "event_name", "channel_group", "source", "medium", "campaign",
                               "landing_page", "_source_system", "record_key"))
    for r in touches:
        via = " / ".join(v for v in (r.get("source"), r.get("medium")) if v)
        detail = " · ".join(v for v in (via, r.get("campaign"), r.get("landing_page")) if v)
        events.append(TimelineEvent(r["occurred_at"], "touchpoint", r.get("event_name") or r.get("type") or "touchpoint",
                                    channel=r.get("channel_group"), detail=detail or None,
                                    source_system=r.get("_source_system"), record_key=r.get("record_key")))
    convs, more_c = _events(ws, "conversions", person_id, "occurred_at",
                            ("type", "value", "currency", "_source_system", "record_key"))
    for r in convs:
        events.append(TimelineEvent(r["occurred_at"], "conversion", r.get("type") or "conversion",
                                    amount=r.get("value"), currency=r.get("currency"),
                                    source_system=r.get("_source_system"), record_key=r.get("record_key")))
    stages, more_s = _events(ws, "lifecycle_stages", person_id, "entered_at",
                             ("stage", "_source_system", "record_key"))
    for r in stages:
        events.append(TimelineEvent(r["entered_at"], "stage", r.get("stage") or "",
                                    source_system=r.get("_source_system"), record_key=r.get("record_key")))
    for deal in deals:
        events.append(TimelineEvent(deal.get("created_at"), "deal_created", deal.get("name") or deal.get("record_key"),
                                    detail=deal.get("stage"), amount=deal.get("amount"), currency=deal.get("currency"),
                                    source_system=deal.get("_source_system"), record_key=deal.get("record_key")))
        if deal.get("is_closed") and deal.get("closed_at"):
            events.append(TimelineEvent(deal["closed_at"], "deal_won" if deal.get("is_won") else "deal_lost",
                                        deal.get("name") or deal.get("record_key"), amount=deal.get("amount"),
                                        currency=deal.get("currency"), source_system=deal.get("_source_system"),
                                        record_key=deal.get("record_key")))
    dated = sorted((e for e in events if e.at is not None), key=lambda e: (e.at, e.kind, e.record_key or ""))
    undated = [e for e in events if e.at is None]
    return dated + undated, more_t or more_c or more_s


def _deals(ws: Workspace, person_id: str) -> list[dict[str, Any]]:
    if not _has(ws, "opportunities"):
        return []
    o = ws.table("opportunities")
    if "person_id" not in o.columns:
        return []
    columns = [c for c in ("record_key", "name", "stage", "amount", "currency", "created_at", "closed_at", "is_won",
                           "is_closed", "owner", "_source_system") if c in o.columns]
    order = [o.created_at.desc(nulls_first=False)] if "created_at" in o.columns else []
    return _rows(o.filter(o.person_id == person_id).select(*columns).order_by([*order, o.record_key]))
