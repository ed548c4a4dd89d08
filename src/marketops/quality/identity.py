"""Identity resolution of people: which source records are one human, as a stable ``person_id``.

:func:`resolve_people` reads a clean people table (after the normalise step) and writes two tables:

``identity_map`` — one row per people source record:

=====================  ==========================================================================
``record_key``         the record's canonical key (``<source_system>:<natural key>``)
``source_system``      the system the record came from
``record_id``          its id in that system
``email``              its clean email
``person_id``          ``P`` + 16 hex digits, a hash of the smallest record key of the person, so
                       it stays the same across runs while the person's records do not change
``match_probability``  probability of the strongest link that joined the record to its person
                       (1.0 for an identifier or a decision; NULL for a record alone)
``match_rule``         kind of that link: ``decision``, ``email``, ``record_id``, ``anonymous_id``
                       (or another identifier column), ``probabilistic``; ``single`` when alone
=====================  ==========================================================================

``identity_pairs`` — the candidate pairs: every pair the model scored at or above the review
threshold, and every identifier pair the model vetoed. Columns: ``pair_id`` (hash of the sorted
pair), ``record_key_l``, ``record_key_r``, ``match_probability``, ``match_weight``, ``status``
(``merged``: at or above the match threshold, linked by an identifier, or an always-merge
decision; ``review``: between the thresholds, or records that share an identifier while every
other column says two people;
``rejected``: a never-merge decision kept the two apart, directly or through other records),
``same_person`` (the two records ended in one person, whatever linked them), ``evidence`` (a JSON
list, one object per compared column: ``column``, ``left``, ``right``, ``level``,
``bayes_factor``, ``match_weight`` in bits, so a reviewer sees which fields agreed and how
strongly) and the display columns ``first_name_l/_r``, ``last_name_l/_r``, ``email_l/_r``,
``phone_l/_r``, ``company_l/_r``, ``city_l/_r``.

How records are linked, strongest first (see :mod:`marketops.quality.clusters`):

1. always-merge decisions;
2. identifiers (:mod:`marketops.quality.identifiers`): same clean email, same record id within
   one system, same anonymous id, unless the names clearly differ or the model, weighing every
   other column, says "two people" (``identifier_veto``);
3. the model's pairs at or above the match threshold (:mod:`marketops.quality.identity_model`).

Never-merge decisions hold even through other records.

Example:
    >>> import tempfile, pathlib, pyarrow as pa
    >>> from marketops.engine.duckdb import DuckDBEngine
    >>> eng = DuckDBEngine(pathlib.Path(tempfile.mkdtemp()))
    >>> eng.write("people", pa.table({
    ...     "record_key": ["crm:1", "crm:2", "shop:9"], "_source_system": ["crm", "crm", "shop"],
    ...     "record_id": ["1", "2", "9"], "email": ["ann@x.com", None, "ann@x.com"],
    ...     "first_name": ["Ann", "Bo", "Ann"], "last_name": ["Lee", "Park", "Lee"]}))
    >>> res = resolve_people(eng, "people", map_table="identity_map", pairs_table="identity_pairs")
    >>> res.records, res.persons, res.links
    (3, 2, {'email': 1})
    >>> eng.con.table("identity_map").order_by("record_key").match_rule.to_pyarrow().to_pylist()
    ['email', 'single', 'email']
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from marketops.errors import ValidationFailed
from marketops.quality.clusters import Links, cluster
from marketops.quality.decisions import Decisions
from marketops.quality.identifiers import IdentifierPairs, identifier_pairs
from marketops.quality.identity_config import IdentityConfig
from marketops.quality.identity_model import GIVEN_NAME, score_pairs
from marketops.quality.identity_tables import (
    DISPLAY,
    UNIQUE_ID,
    KeyIndex,
    fetch,
    floats,
    identity_map,
    identity_pairs,
)
from marketops.quality.nicknames import NICKNAMES

if TYPE_CHECKING:
    from marketops.engine.base import Engine


@dataclass
class IdentityResult:
    """What one resolution did: counts, costs and the trained model."""

    map_table: str
    pairs_table: str
    records: int = 0
    persons: int = 0
    #: accepted links by kind: pairs of records a decision, an identifier or the model linked and
    #: that ended up in one person
    links: dict[str, int] = field(default_factory=dict)
    review_pairs: int = 0
    rejected_pairs: int = 0
    #: identifier links the model vetoed (shared mailbox or device: sent to review instead)
    vetoed_identifier_links: int = 0
    #: candidate pairs the blocking rules produced (what the model had to score)
    compared_pairs: int = 0
    #: compared columns the model used (configured columns that hold values)
    columns: list[str] = field(default_factory=list)
    #: each blocking rule: columns, pairs, used, reason when not used
    blocking: list[dict[str, Any]] = field(default_factory=list)
    #: probability that two random records are one person (from the identifier links)
    prior: float | None = None
    #: prior, and m, u and match weight per column and level
    parameters: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def resolve_people(engine: Engine, people_table: str, config: IdentityConfig | None = None, *,
                   map_table: str, pairs_table: str, decisions: Decisions | None = None) -> IdentityResult:
    """Resolve the people in ``people_table`` into persons; write ``map_table`` and ``pairs_table``.

    ``people_table`` is a physical table readable with ``engine.con.table`` holding at least
    ``record_key``; the columns of the normalise step's contract are used when present
    (``_source_system``, ``record_id``, ``email``, ``phone``, names, ``company_key``, address...).
    ``decisions`` are the reviewers' always- and never-merge pairs (record keys); pairs naming a
    record that is not in the table are ignored.
    """
    cfg = config or IdentityConfig()
    decisions = decisions or Decisions()
    clock = _Clock()
    people = engine.con.table(people_table)
    if UNIQUE_ID not in people.columns:
        raise ValidationFailed(f"table {people_table} has no record_key column, which identity resolution needs")
    result = IdentityResult(map_table, pairs_table)

    records = _records(people, cfg).to_pyarrow().sort_by(UNIQUE_ID)
    n = result.records = records.num_rows
    keys = records[UNIQUE_ID].combine_chunks()
    index = KeyIndex(keys)
    if keys.null_count or not index.index.is_unique:
        raise ValidationFailed(f"record_key of {people_table} must be unique and never empty, which the "
                               "canonical step guarantees; was the table built by the pipeline?")
    clock.lap("read")

    found = identifier_pairs(records, cfg)
    result.prior = _prior(n, found, cfg)
    checked = np.array([found.kinds[k] != "record_id" for k in found.kind], dtype=bool)
    clock.lap("identifiers")

    ruled = [c for rule in [*cfg.blocking, *cfg.training_blocking] for c in rule]
    filled = _columns_with_values(people, [*cfg.columns, *ruled], n)
    columns = result.columns = [c for c in cfg.columns if c in filled]
    input_table, id_table = f"{pairs_table}_input", f"{pairs_table}_identifiers"
    engine.write(input_table, _model_input(people, columns, [c for c in ruled if c in filled], cfg))
    if checked.any():
        engine.write(id_table, pa.table({"record_key_l": keys.take(found.left[checked]),
                                         "record_key_r": keys.take(found.right[checked])}))
    clock.lap("model_input")
    scored = score_pairs(engine, input_table, n, columns, cfg, prior=result.prior,
                         identifier_pairs=id_table if checked.any() else None)
    try:
        result.seconds.update({k: round(v, 3) for k, v in scored.seconds.items()})
        result.blocking = [asdict(b) for b in scored.blocking]
        result.compared_pairs = scored.compared_pairs
        result.parameters = scored.parameters
        clock.skip(sum(scored.seconds.values()))
        predictions = _positioned(fetch(engine, scored.predictions, columns), index)
        id_scores = _positioned(fetch(engine, scored.identifier_scores, columns), index)
        clock.lap("fetch_pairs")
    finally:
        scored.cleanup(engine)
        engine.drop(input_table)
        engine.drop(id_table)

    vetoed = _vetoed(found, checked, id_scores, scored.prior, cfg, n)
    result.vetoed_identifier_links = int(vetoed.sum())
    kinds = ["decision", *found.kinds, "probabilistic"]
    always, never = _decision_pairs(decisions.always, index), _decision_pairs(decisions.never, index)
    pl, pr = _ints(predictions["_l"]), _ints(predictions["_r"])
    prob = floats(predictions["match_probability"])
    strong = prob >= cfg.match_threshold
    keep = ~vetoed
    links = Links.concat([
        Links(always[:, 0], always[:, 1], np.ones(len(always)), np.zeros(len(always), dtype=np.int64)),
        Links(found.left[keep], found.right[keep], np.ones(int(keep.sum())), found.kind[keep] + 1),
        Links(pl[strong], pr[strong], prob[strong], np.full(int(strong.sum()), len(kinds) - 1)),
    ]).ordered()
    clustering = cluster(n, links, [tuple(p) for p in never.tolist()])
    clock.lap("cluster")

    labels = clustering.labels
    result.persons = int(np.count_nonzero(labels == np.arange(n)))  # a person's label is its first record
    accepted = links.kind[clustering.accepted]
    result.links = {kinds[k]: int(c) for k, c in enumerate(np.bincount(accepted, minlength=len(kinds))) if c}
    engine.write(map_table, identity_map(records, labels, links, clustering.accepted, kinds))
    clock.lap("write_map")

    refused = {(int(links.left[k]), int(links.right[k])) for k in np.flatnonzero(clustering.refused)}
    candidates = _candidates(predictions, id_scores, found, vetoed, n)
    pairs = identity_pairs(candidates, records, labels, cfg, decisions, refused, scored.levels, columns)
    result.review_pairs = int(pc.sum(pc.equal(pairs["status"], "review")).as_py() or 0)
    result.rejected_pairs = int(pc.sum(pc.equal(pairs["status"], "rejected")).as_py() or 0)
    engine.write(pairs_table, pairs)
    clock.lap("write_pairs")
    result.seconds.update(clock.laps)
    result.seconds["total"] = round(clock.total(), 3)
    return result


def _decision_pairs(pairs: frozenset[tuple[str, str]], index: KeyIndex) -> np.ndarray:
    """Decision pairs as row positions (an (n, 2) array); pairs naming an unknown record are dropped."""
    ordered = sorted(pairs)
    if not ordered:
        return np.empty((0, 2), dtype=np.int64)
    pos = np.stack([index.positions(pa.array([a for a, _ in ordered])),
                    index.positions(pa.array([b for _, b in ordered]))], axis=1)
    return pos[(pos >= 0).all(axis=1)]


def _prior(n: int, found: IdentifierPairs, cfg: IdentityConfig) -> float | None:
    """How likely two random records are one person: pairs inside the groups the identifiers form,
    over all pairs, scaled up by the share of duplicates the identifiers are assumed to find."""
    groups = cluster(n, Links(found.left, found.right, np.ones(len(found)), np.zeros(len(found), dtype=np.int64)))
    sizes = np.bincount(groups.labels, minlength=n).astype(np.float64)
    observed = float((sizes * (sizes - 1) / 2).sum())
    total = n * (n - 1) / 2
    return min(observed / cfg.deterministic_recall / total, 0.5) if total and observed else None


def _positioned(t: pa.Table, index: KeyIndex) -> pa.Table:
    """The scored pairs with the row positions of their two records (``_l``, ``_r``)."""
    return (t.append_column("_l", pa.array(index.positions(t["record_key_l"])))
            .append_column("_r", pa.array(index.positions(t["record_key_r"]))))


def _ints(column: pa.ChunkedArray) -> np.ndarray:
    return column.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def _pair_codes(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """One integer per unordered pair of row positions."""
    return np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b)


def _vetoed(found: IdentifierPairs, checked: np.ndarray, scores: pa.Table, prior: float | None,
            cfg: IdentityConfig, n: int) -> np.ndarray:
    """Identifier pairs whose other columns weigh more than ``identifier_veto`` bits against them."""
    if not scores.num_rows or not prior:
        return np.zeros(len(found), dtype=bool)
    evidence = floats(scores["match_weight"]) - math.log2(prior / (1 - prior))
    against = evidence < cfg.identifier_veto
    bad = _pair_codes(_ints(scores["_l"])[against], _ints(scores["_r"])[against], n)
    return checked & np.isin(_pair_codes(found.left, found.right, n), bad)


def _candidates(predictions: pa.Table, id_scores: pa.Table, found: IdentifierPairs, vetoed: np.ndarray,
                n: int) -> pa.Table:
    """The model's candidate pairs plus the vetoed identifier pairs, each with ``identifier`` (the
    identifier the two records share, if any) and ``vetoed`` (every identifier link between them
    was vetoed: the pair goes to review)."""
    codes = _pair_codes(found.left, found.right, n)
    # per pair the link that counts: one not vetoed if any, else the first identifier configured
    order = np.lexsort((found.kind, vetoed, codes))
    unique, first = np.unique(codes[order], return_index=True)
    kind_of, vetoed_of = found.kind[order][first], vetoed[order][first]
    kinds = np.array([*found.kinds, None], dtype=object)

    def flag(t: pa.Table) -> tuple[pa.Table, np.ndarray]:
        c = _pair_codes(_ints(t["_l"]), _ints(t["_r"]), n)
        at = np.minimum(np.searchsorted(unique, c), max(len(unique) - 1, 0))
        hit = (unique[at] == c) if len(unique) else np.zeros(len(c), dtype=bool)
        kind = np.where(hit, kind_of[at] if len(unique) else -1, len(found.kinds))
        t = t.append_column("identifier", pa.array(kinds[kind], type=pa.string()))
        return t.append_column("vetoed", pa.array(hit & (vetoed_of[at] if len(unique) else hit))), c

    predictions, seen = flag(predictions)
    extra, extra_codes = flag(id_scores)
    keep = np.asarray(extra["vetoed"], dtype=bool) & ~np.isin(extra_codes, seen)
    if not keep.any():
        return predictions
    return pa.concat_tables([predictions, extra.filter(pa.array(keep)).select(predictions.column_names)])


# -- inputs ------------------------------------------------------------------------------------
def _col(t: ibis.Table, name: str) -> ibis.Value:
    """A text column with empty strings as NULL; a missing column is all NULL."""
    if name not in t.columns:
        return ibis.null().cast("string")
    return t[name].cast("string").nullif("")


def _records(people: ibis.Table, cfg: IdentityConfig) -> ibis.Table:
    """What the resolver keeps in memory per record: keys, identifiers and display values."""
    cols = {UNIQUE_ID: people[UNIQUE_ID], "source_system": _col(people, "_source_system"),
            "record_id": _col(people, "record_id")}
    for c in dict.fromkeys([*DISPLAY, *cfg.deterministic]):
        if c not in cols:
            cols[c] = _col(people, c)
    if "email_role" in people.columns:
        # a shared role mailbox (info@, sales@) is not one person: never an identifier
        cols["_email_key"] = ibis.cases((people.email_role.fill_null(False), ibis.null().cast("string")),
                                        else_=cols["email"])
    return people.select(**cols)


def _columns_with_values(people: ibis.Table, names: list[str], n: int) -> set[str]:
    """The named columns that exist and hold at least two values (one query for all)."""
    present = [c for c in dict.fromkeys(names) if c in people.columns]
    if not present or n < 2:
        return set()
    counts = people.aggregate(**{c: _col(people, c).count() for c in present}).to_pyarrow().to_pylist()[0]
    return {c for c in present if (counts[c] or 0) >= 2}


def _model_input(people: ibis.Table, columns: list[str], blocked_on: list[str], cfg: IdentityConfig) -> ibis.Table:
    """What Splink reads: the record key, the compared columns, the columns blocking and training
    rules need (such as email, which is an identifier rather than a compared column) and the given
    name behind a nickname."""
    cols: dict[str, ibis.Value] = {UNIQUE_ID: people[UNIQUE_ID]}
    for c in dict.fromkeys([*columns, *blocked_on]):
        cols[c] = _col(people, c)
    if cfg.nicknames and "first_name" in columns:
        first = cols["first_name"].lower()
        cols[GIVEN_NAME] = first.substitute(NICKNAMES, else_=first)
    return people.select(**cols)


class _Clock:
    def __init__(self) -> None:
        self.start = self.mark = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.mark, 3)
        self.mark = now

    def skip(self, seconds: float) -> None:
        """Seconds already accounted for elsewhere (the model's own phases)."""
        self.mark += seconds

    def total(self) -> float:
        return time.perf_counter() - self.start
