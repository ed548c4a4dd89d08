"""The review queue of uncertain identity matches, and the merge decisions people take on it.

Each run the identity resolver publishes ``identity_pairs`` (candidate pairs of source records
with their match probability, a status and the evidence per compared column) and
``identity_map`` (every source record with its ``person_id``). Pairs with status ``review`` sit
between the lower and the upper threshold: a person looks at the evidence and decides.

Decisions live in the app database (:class:`~marketops.state.models.MergeDecision`), so they
persist across runs, and each goes to the audit log (who, when, from where). The resolver reads
them at every run (:func:`load_decisions`): a decision takes effect at the **next pipeline run**.
A decided pair leaves the queue at once; revoking the decision brings it back.

- :func:`accept` / :func:`reject`: *always* / *never* merge the two records of a pair;
- :func:`split`: *never* merge a record with every other record of its current person;
- :func:`merge`: *always* merge two records the model did not pair (or did not trust enough);
- :func:`revoke`: undo a decision.

Functions take the workspace (the warehouse is only read) and, optionally, an open app-database
``session`` whose commit is then the caller's; without one they open and commit their own.

Example:
    >>> import json, tempfile, pathlib, pyarrow as pa
    >>> from marketops.workspace import Workspace
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
    >>> evidence = json.dumps([{"column": "email", "left": "ann@x.io", "right": "ann@x.io",
    ...                         "level": "exact match", "bayes_factor": 512.0, "match_weight": 9.0}])
    >>> ws.engine.write("identity_pairs__r1", pa.table({
    ...     "pair_id": ["p1"], "record_key_l": ["web:7"], "record_key_r": ["crm:1"],
    ...     "match_probability": [0.8], "match_weight": [2.0], "status": ["review"],
    ...     "evidence": [evidence]}))
    >>> ws.engine.publish({"identity_pairs": "identity_pairs__r1"}, "r1")
    >>> [(item.pair_id, item.evidence[0].verdict) for item in review_queue(ws)]
    [('p1', 'agree')]
    >>> print(accept(ws, "p1", "ana@acme.test", note="same email").message)
    Recorded: always merge crm:1 and web:7. It takes effect at the next pipeline run.
    >>> load_decisions(ws).always, review_queue(ws)
    (frozenset({('crm:1', 'web:7')}), [])
    >>> print(revoke(ws, list_decisions(ws)[0].id, "ana@acme.test").message)
    Revoked: always merge crm:1 and web:7. It takes effect at the next pipeline run.
    >>> queue_size(ws)
    1
    >>> ws.close()
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ibis
import pyarrow as pa
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketops.errors import NotFound
from marketops.quality.decisions import Decisions, pair
from marketops.quality.review_values import (
    DecisionConflict,
    DecisionOutcome,
    DecisionRecord,
    Evidence,
    InvalidDecision,
    ReviewItem,
    ReviewPage,
)
from marketops.state.audit import record
from marketops.state.db import init_db, session_scope
from marketops.state.models import DECISIONS, MergeDecision
from marketops.workspace import Workspace

#: Canonical names of the resolver's outputs.
PAIRS_TABLE = "identity_pairs"
MAP_TABLE = "identity_map"
#: Columns shown side by side for the two records of a pair (``first_name_l``, ``first_name_r``...).
DISPLAY_COLUMNS = ("first_name", "last_name", "email", "phone", "company", "city")
#: A pair id may be shortened (like a git hash) to at least this many characters.
MIN_PREFIX = 6
MAX_NOTE = 2000
NEXT_RUN = "It takes effect at the next pipeline run."

_ACTIONS = {"review_accept": "identity.accept", "review_reject": "identity.reject",
            "split": "identity.split", "manual": "identity.merge"}


# -- the app database --------------------------------------------------------------------------------
@contextmanager
def _session(ws: Workspace, session: Session | None) -> Iterator[Session]:
    if session is not None:
        yield session
        return
    url = ws.app_database_url
    init_db(url)  # idempotent; the resolver may be the first to touch a new workspace's database
    with session_scope(url) as own:
        yield own


def _find(session: Session, a: str, b: str) -> MergeDecision | None:
    a, b = pair(a, b)
    return session.scalar(select(MergeDecision).where(MergeDecision.record_key_a == a,
                                                      MergeDecision.record_key_b == b))


def _who(actor: str | None) -> str:
    if not actor or not actor.strip():
        raise InvalidDecision("say who decides: an actor is required for the audit log")
    return actor.strip()


def _clean_note(note: str | None) -> str | None:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidDecision(f"the note is {len(note)} characters long; keep it under {MAX_NOTE}")
    return note or None


def _audit_detail(d: DecisionRecord, **extra: Any) -> dict[str, Any]:
    return {"record_key_a": d.record_key_a, "record_key_b": d.record_key_b, "decision": d.decision,
            "origin": d.origin, "pair_id": d.pair_id, "match_probability": d.match_probability,
            "note": d.note, **extra}


def _decide(session: Session, a: str, b: str, decision: str, origin: str, *, actor: str,
            pair_id: str | None, probability: float | None, note: str | None, ip: str | None,
            extra: dict[str, Any] | None = None) -> tuple[DecisionRecord, bool]:
    """Store one decision (audited); (existing, False) when the same one is already in place."""
    a, b = pair(a, b)
    if a == b:
        raise InvalidDecision(f"'{a}' is one record; a decision needs two different records")
    existing = _find(session, a, b)
    if existing is not None:
        if existing.decision == decision:
            return DecisionRecord.of(existing), False
        raise DecisionConflict(
            f"{a} and {b} already have a '{existing.decision} merge' decision (id {existing.id}, "
            f"by {existing.decided_by})",
            hint=f"revoke it first: `marketops review revoke {existing.id}`")
    row = MergeDecision(record_key_a=a, record_key_b=b, decision=decision, origin=origin, pair_id=pair_id,
                        match_probability=_float(probability), note=note, decided_by=actor)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        # Another reviewer decided about the same pair between our read and our write.
        raise DecisionConflict(f"someone else decided about {a} and {b} at the same moment",
                               hint="reload the pair and try again") from None
    view = DecisionRecord.of(row)
    record(session, actor, _ACTIONS[origin], f"decision:{row.id}", _audit_detail(view, **(extra or {})), ip)
    return view, True


def _remove(session: Session, row: MergeDecision, actor: str, ip: str | None, **extra: Any) -> DecisionRecord:
    view = DecisionRecord.of(row)
    session.delete(row)
    session.flush()
    record(session, actor, "identity.revoke", f"decision:{view.id}",
           _audit_detail(view, decided_by=view.decided_by, **extra), ip)
    return view


# -- the warehouse -----------------------------------------------------------------------------------
def _float(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _run_id(ws: Workspace, name: str) -> str | None:
    physical = ws.engine.published().get(name)
    return physical.split("__", 1)[1] if physical and "__" in physical else None


def _pairs(ws: Workspace) -> ibis.Table | None:
    return ws.engine.table(PAIRS_TABLE) if ws.engine.has_table(PAIRS_TABLE) else None


def _evidence(raw: Any) -> tuple[Evidence, ...]:
    try:
        items = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except ValueError:
        return ()  # an unreadable evidence cell must not hide the pair from review
    return tuple(Evidence(str(i["column"]), i.get("left"), i.get("right"), i.get("level"),
                          _float(i.get("bayes_factor")), _float(i.get("match_weight")))
                 for i in (items if isinstance(items, list) else []) if isinstance(i, dict) and i.get("column"))


def _item(row: dict[str, Any], run_id: str | None, decision: DecisionRecord | None = None) -> ReviewItem:
    left, right = ({"record_key": row[f"record_key_{side}"],
                    **{c: row[f"{c}_{side}"] for c in DISPLAY_COLUMNS if f"{c}_{side}" in row}}
                   for side in ("l", "r"))
    return ReviewItem(row["pair_id"], run_id, _float(row.get("match_probability")), _float(row.get("match_weight")),
                      row.get("status") or "", left, right, _evidence(row.get("evidence")), row.get("same_person"),
                      decision)


def _undecided(pairs: ibis.Table, decided: list[tuple[str, str]]) -> ibis.Table:
    if not decided:
        return pairs
    keys = ibis.memtable(pa.table({"_a": [a for a, _ in decided], "_b": [b for _, b in decided]}))
    lo = ibis.least(pairs.record_key_l, pairs.record_key_r)
    hi = ibis.greatest(pairs.record_key_l, pairs.record_key_r)
    # Sorted pairs compare byte-wise in the warehouse as in Python (code point order).
    return pairs.anti_join(keys, [lo == keys._a, hi == keys._b])


def _queue(ws: Workspace, session: Session, min_probability: float | None,
           max_probability: float | None) -> ibis.Table | None:
    for value, name in ((min_probability, "min_probability"), (max_probability, "max_probability")):
        if value is not None and not 0 <= value <= 1:
            raise InvalidDecision(f"{name} must be between 0 and 1, got {value}")
    pairs = _pairs(ws)
    if pairs is None:
        return None
    queue = pairs.filter(pairs.status == "review")
    if min_probability is not None:
        queue = queue.filter(queue.match_probability >= min_probability)
    if max_probability is not None:
        queue = queue.filter(queue.match_probability <= max_probability)
    decided = session.execute(select(MergeDecision.record_key_a, MergeDecision.record_key_b)).all()
    return _undecided(queue, [tuple(r) for r in decided])


# -- reading the queue --------------------------------------------------------------------------------
def review_queue(ws: Workspace, *, limit: int | None = 50, offset: int = 0, min_probability: float | None = None,
                 max_probability: float | None = None, session: Session | None = None) -> list[ReviewItem]:
    """Pairs of the newest run waiting for review (status ``review``, no decision yet), the most
    probable first, with their evidence decoded; empty before the resolver's first run (module example)."""
    with _session(ws, session) as s:
        queue = _queue(ws, s, min_probability, max_probability)
    if queue is None:
        return []
    ordered = queue.order_by([ibis.desc("match_probability"), "pair_id"])
    if limit is not None or offset:
        ordered = ordered.limit(limit, offset=max(offset, 0))
    return [_item(row, _run_id(ws, PAIRS_TABLE)) for row in ordered.to_pyarrow().to_pylist()]


def queue_size(ws: Workspace, *, min_probability: float | None = None, max_probability: float | None = None,
               session: Session | None = None) -> int:
    """How many pairs :func:`review_queue` would list without a limit."""
    with _session(ws, session) as s:
        queue = _queue(ws, s, min_probability, max_probability)
    return 0 if queue is None else int(queue.count().to_pyarrow().as_py())


def review_page(ws: Workspace, *, limit: int | None = 50, offset: int = 0, min_probability: float | None = None,
                max_probability: float | None = None, session: Session | None = None) -> ReviewPage:
    """:func:`review_queue` and :func:`queue_size` together, as the CLI and the API page through them."""
    with _session(ws, session) as s:
        total = queue_size(ws, min_probability=min_probability, max_probability=max_probability, session=s)
        items = review_queue(ws, limit=limit, offset=offset, min_probability=min_probability,
                             max_probability=max_probability, session=s)
    return ReviewPage(items, total, limit, offset, _run_id(ws, PAIRS_TABLE), _pairs(ws) is not None)


def _pair_row(ws: Workspace, pair_id: str) -> dict[str, Any]:
    pairs = _pairs(ws)
    if pairs is None:
        raise NotFound(f"no identity pair '{pair_id}': identity resolution has not run yet",
                       hint="run the pipeline first: `marketops run`")
    wanted = pair_id.strip()
    # Prefixes only of plain ids: an engine may turn startswith into LIKE, where % and _ are wildcards.
    if len(wanted) >= MIN_PREFIX and wanted.isalnum():
        found = pairs.filter(pairs.pair_id.startswith(wanted)).limit(3)
    else:
        found = pairs.filter(pairs.pair_id == wanted)
    rows = found.to_pyarrow().to_pylist()
    exact = [r for r in rows if r["pair_id"] == wanted]
    if exact or len(rows) == 1:
        return (exact or rows)[0]
    if rows:
        raise NotFound(f"pair id '{wanted}' is ambiguous: it matches more than one pair; give more of it")
    short = f"give at least {MIN_PREFIX} characters of a pair id, or " if len(wanted) < MIN_PREFIX else ""
    raise NotFound(f"no identity pair '{wanted}' in the newest run",
                   hint=f"{short}list the pairs waiting for review with `marketops review list`")


def get_item(ws: Workspace, pair_id: str, *, session: Session | None = None) -> ReviewItem:
    """One pair of the newest run (any status), with its decision if it has one.

    ``pair_id`` may be shortened to its first :data:`MIN_PREFIX` characters or more. Unknown ids
    raise :class:`~marketops.errors.NotFound`.
    """
    row = _pair_row(ws, pair_id)
    with _session(ws, session) as s:
        existing = _find(s, row["record_key_l"], row["record_key_r"])
        decision = DecisionRecord.of(existing) if existing else None
    return _item(row, _run_id(ws, PAIRS_TABLE), decision)


# -- deciding -------------------------------------------------------------------------------------------
def _on_pair(ws: Workspace, pair_id: str, decision: str, origin: str, actor: str, note: str | None,
             ip: str | None, session: Session | None) -> DecisionOutcome:
    actor, note = _who(actor), _clean_note(note)
    row = _pair_row(ws, pair_id)
    with _session(ws, session) as s:
        view, created = _decide(s, row["record_key_l"], row["record_key_r"], decision, origin, actor=actor,
                                pair_id=row["pair_id"], probability=row.get("match_probability"), note=note,
                                ip=ip, extra={"run_id": _run_id(ws, PAIRS_TABLE)})
    action = "accept" if origin == "review_accept" else "reject"
    return _outcome(action, view, created)


def _outcome(action: str, view: DecisionRecord, created: bool) -> DecisionOutcome:
    if created:
        return DecisionOutcome(action, created=(view,), message=f"Recorded: {view.describe()}. {NEXT_RUN}")
    return DecisionOutcome(action, unchanged=(view,),
                           message=f"Already decided: {view.describe()} (decision {view.id}); nothing changed.")


def accept(ws: Workspace, pair_id: str, actor: str, note: str | None = None, ip: str | None = None, *,
           session: Session | None = None) -> DecisionOutcome:
    """Accept a suggested match: the pair's two records are *always* merged from the next run on.

    Raises :class:`DecisionConflict` when the pair has a *never* decision (revoke it first).
    """
    return _on_pair(ws, pair_id, "always", "review_accept", actor, note, ip, session)


def reject(ws: Workspace, pair_id: str, actor: str, note: str | None = None, ip: str | None = None, *,
           session: Session | None = None) -> DecisionOutcome:
    """Reject a suggested (or made) match: the pair's two records are *never* merged from the next run on."""
    return _on_pair(ws, pair_id, "never", "review_reject", actor, note, ip, session)


def _identity_map(ws: Workspace) -> ibis.Table:
    if not ws.engine.has_table(MAP_TABLE):
        raise NotFound("there is no identity map yet: identity resolution has not run",
                       hint="run the pipeline first: `marketops run`")
    return ws.engine.table(MAP_TABLE)


def _require_records(ws: Workspace, keys: list[str]) -> dict[str, Any]:
    """record_key -> person_id for ``keys``; an unknown key raises NotFound."""
    idmap = _identity_map(ws)
    rows = idmap.filter(idmap.record_key.isin(keys)).select("record_key", "person_id").to_pyarrow().to_pylist()
    found = {r["record_key"]: r["person_id"] for r in rows}
    for key in keys:
        if key not in found:
            raise NotFound(f"no source record '{key}' in the identity map of the newest run",
                           hint="record keys look like '<source>:<id>', e.g. 'hubspot:123'; "
                                "see them with `marketops export identity_map -o map.csv`")
    return found


def _probabilities(ws: Workspace, key: str) -> dict[tuple[str, str], tuple[str, float | None]]:
    """(sorted pair) -> (pair_id, probability) for every candidate pair that involves ``key``."""
    pairs = _pairs(ws)
    if pairs is None:
        return {}
    rows = pairs.filter((pairs.record_key_l == key) | (pairs.record_key_r == key)).select(
        "pair_id", "record_key_l", "record_key_r", "match_probability").to_pyarrow().to_pylist()
    return {pair(r["record_key_l"], r["record_key_r"]): (r["pair_id"], _float(r["match_probability"]))
            for r in rows}


def split(ws: Workspace, record_key: str, actor: str, note: str | None = None, ip: str | None = None, *,
          session: Session | None = None) -> DecisionOutcome:
    """Split a record off its person (as the newest ``identity_map`` has it): *never* merge it with
    any other record of that person. An *always* decision between the record and another member is
    replaced (revoked, audited): the split is the newer, explicit wish.
    """
    record_key, actor, note = record_key.strip(), _who(actor), _clean_note(note)
    person_id = _require_records(ws, [record_key])[record_key]
    idmap = _identity_map(ws)
    members = sorted(r["record_key"] for r in idmap.filter(
        (idmap.person_id == person_id) & (idmap.record_key != record_key)).select("record_key")
        .to_pyarrow().to_pylist())
    if not members:
        return DecisionOutcome("split", message=f"{record_key} is not merged with any other record; "
                                                "nothing to split.")
    known = _probabilities(ws, record_key)
    created, unchanged, removed = [], [], []
    extra = {"split_record": record_key, "person_id": person_id}
    with _session(ws, session) as s:
        for other in members:
            existing = _find(s, record_key, other)
            if existing is not None and existing.decision == "always":
                removed.append(_remove(s, existing, actor, ip, reason="split", **extra))
            pair_id, probability = known.get(pair(record_key, other), (None, None))
            view, new = _decide(s, record_key, other, "never", "split", actor=actor, pair_id=pair_id,
                                probability=probability, note=note, ip=ip, extra=extra)
            (created if new else unchanged).append(view)
    message = (f"Recorded: {record_key} is never merged with the {len(members)} other record(s) of person "
               f"{person_id} ({len(created)} new decision(s)). {NEXT_RUN}" if created else
               f"{record_key} is already split from the other records of person {person_id}; nothing changed.")
    return DecisionOutcome("split", tuple(created), tuple(unchanged), tuple(removed), message)


def merge(ws: Workspace, record_key_a: str, record_key_b: str, actor: str, note: str | None = None,
          ip: str | None = None, *, session: Session | None = None) -> DecisionOutcome:
    """Join two source records by hand: they are *always* merged from the next run on.

    Both must be in the newest run's ``identity_map``; a *never* decision between them raises
    :class:`DecisionConflict`.
    """
    a, b, actor, note = record_key_a.strip(), record_key_b.strip(), _who(actor), _clean_note(note)
    if a == b:
        raise InvalidDecision(f"'{a}' is one record; name two different records to merge")
    _require_records(ws, [a, b])
    pair_id, probability = _probabilities(ws, a).get(pair(a, b), (None, None))
    with _session(ws, session) as s:
        view, created = _decide(s, a, b, "always", "manual", actor=actor, pair_id=pair_id,
                                probability=probability, note=note, ip=ip)
    return _outcome("merge", view, created)


def revoke(ws: Workspace, decision_id: int, actor: str, ip: str | None = None, *,
           session: Session | None = None) -> DecisionOutcome:
    """Undo a decision (audited); a pair that was waiting for review returns to the queue."""
    actor = _who(actor)
    with _session(ws, session) as s:
        row = s.get(MergeDecision, decision_id)
        if row is None:
            raise NotFound(f"no merge decision with id {decision_id} (it may have been revoked already)",
                           hint="list decisions with `marketops review decisions`")
        view = _remove(s, row, actor, ip)
    return DecisionOutcome("revoke", removed=(view,), message=f"Revoked: {view.describe()}. {NEXT_RUN}")


# -- reading decisions ------------------------------------------------------------------------------------
def _decisions_query(decision: str | None, record_key: str | None):
    query = select(MergeDecision)
    if decision is not None:
        if decision not in DECISIONS:
            raise InvalidDecision(f"decision must be 'always' or 'never', got '{decision}'")
        query = query.where(MergeDecision.decision == decision)
    if record_key:
        query = query.where(or_(MergeDecision.record_key_a == record_key, MergeDecision.record_key_b == record_key))
    return query


def list_decisions(ws: Workspace, *, decision: str | None = None, record_key: str | None = None,
                   limit: int | None = None, offset: int = 0, session: Session | None = None) -> list[DecisionRecord]:
    """Live decisions, newest first; only ``always`` or ``never`` ones, or those touching one record."""
    query = _decisions_query(decision, record_key).order_by(MergeDecision.decided_at.desc(),
                                                            MergeDecision.id.desc())
    query = query.offset(offset or None).limit(limit)
    with _session(ws, session) as s:
        return [DecisionRecord.of(row) for row in s.scalars(query)]


def count_decisions(ws: Workspace, *, decision: str | None = None, record_key: str | None = None,
                    session: Session | None = None) -> int:
    """How many decisions :func:`list_decisions` would list without a limit."""
    query = _decisions_query(decision, record_key).with_only_columns(func.count(), maintain_column_froms=True)
    with _session(ws, session) as s:
        return int(s.scalar(query) or 0)


def load_decisions(ws: Workspace, *, session: Session | None = None) -> Decisions:
    """Every live decision as the plain value the identity resolver reads at each run."""
    with _session(ws, session) as s:
        rows = s.execute(select(MergeDecision.record_key_a, MergeDecision.record_key_b,
                                MergeDecision.decision)).all()
    return Decisions.of(always=[(a, b) for a, b, d in rows if d == "always"],
                        never=[(a, b) for a, b, d in rows if d == "never"])
