"""Identifier links: records that share a clean email, a record id within one system or a visitor id.

An identifier is strong evidence, not proof: a family shares a mailbox, a team shares sales@, a
laptop is shared. So, per identifier value:

- a value on more than ``max_records_per_identifier`` records is a shared inbox or a placeholder
  (``test@test.com``) and links nothing;
- two records whose first or last names clearly differ (not a nickname, not a slip of the keyboard)
  are not linked by it;
- the remaining pairs are candidate links, which the resolver still lets the model veto when every
  other column speaks against them (see :mod:`marketops.quality.identity`).

A record id repeated within one system is the same record, whatever the names say.

Example:
    >>> import pyarrow as pa
    >>> from marketops.quality.identity_config import IdentityConfig
    >>> records = pa.table({"source_system": ["crm"] * 3, "record_id": ["1", "2", "3"],
    ...     "email": ["fam@x.io", "fam@x.io", "fam@x.io"], "anonymous_id": [None] * 3,
    ...     "first_name": ["John", "Jon", "James"], "last_name": ["Bianchi"] * 3})
    >>> found = identifier_pairs(records, IdentityConfig())
    >>> found.kinds, found.left.tolist(), found.right.tolist()
    (['email'], [0], [1])
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from marketops.quality.identity_config import IdentityConfig
from marketops.quality.nicknames import given_name

#: Two names at least this similar (difflib ratio) are one name with a slip ("Sttefan", "Stefan").
NAME_SIMILAR = 0.75


@dataclass
class IdentifierPairs:
    """Candidate links: record indices, the kind of each (index into ``kinds``)."""

    left: np.ndarray
    right: np.ndarray
    kind: np.ndarray
    kinds: list[str]

    def __len__(self) -> int:
        return len(self.left)


def identifier_key(records: pa.Table, kind: str) -> pa.ChunkedArray | pa.Array:
    """The value records must share to be linked by ``kind``."""
    if kind == "record_id":
        # an id is unique only within its system
        return pc.binary_join_element_wise(records["source_system"], records["record_id"], "\x1f")
    if kind == "email" and "_email_key" in records.column_names:
        return records["_email_key"]
    return records[kind]


def identifier_pairs(records: pa.Table, cfg: IdentityConfig) -> IdentifierPairs:
    """Every pair of records sharing an identifier value, for the configured identifiers."""
    names = _name_keys(records)
    lefts, rights, kind_codes, kinds = [], [], [], []
    for kind in cfg.deterministic:
        left, right = _pairs_sharing(identifier_key(records, kind), cfg.max_records_per_identifier)
        if kind != "record_id" and len(left):
            keep = ~_names_conflict(names, left, right)
            left, right = left[keep], right[keep]
        if len(left):
            kinds.append(kind)
            lefts.append(left)
            rights.append(right)
            kind_codes.append(np.full(len(left), len(kinds) - 1, dtype=np.int64))
    if not kinds:
        empty = np.empty(0, dtype=np.int64)
        return IdentifierPairs(empty, empty, empty, [])
    return IdentifierPairs(np.concatenate(lefts), np.concatenate(rights), np.concatenate(kind_codes), kinds)


def _pairs_sharing(key: pa.ChunkedArray | pa.Array, max_group: int) -> tuple[np.ndarray, np.ndarray]:
    """All index pairs (i < j) with the same non-null key, in groups of at most ``max_group``."""
    encoded = pc.dictionary_encode(key)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    idx = np.flatnonzero(np.asarray(encoded.is_valid()))
    codes = encoded.indices.fill_null(0).to_numpy(zero_copy_only=False)[idx].astype(np.int64)
    order = np.lexsort((idx, codes))
    idx, codes = idx[order], codes[order]
    if len(idx) < 2:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    sizes = np.bincount(codes)[codes]
    small = sizes <= max_group
    lefts, rights = [], []
    # sorted by key, so the pairs at distance d are positions p and p + d holding the same key
    for d in range(1, int(min(sizes[small].max(initial=1), max_group))):
        same = (codes[:-d] == codes[d:]) & small[:-d]
        lefts.append(idx[:-d][same])
        rights.append(idx[d:][same])
    if not lefts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(lefts), np.concatenate(rights)


def _name_keys(records: pa.Table) -> tuple[list[str | None], list[str | None]]:
    """Given name (nicknames resolved) and lower-case last name of every record; each distinct
    spelling is looked up once."""
    def per_value(column: pa.ChunkedArray, fn) -> list[str | None]:
        encoded = pc.dictionary_encode(column).combine_chunks()
        mapped = [fn(v) for v in encoded.dictionary.to_pylist()]
        codes = encoded.indices.fill_null(0).to_numpy(zero_copy_only=False)
        valid = np.asarray(encoded.is_valid())
        return [mapped[c] if ok else None for c, ok in zip(codes.tolist(), valid.tolist())]

    return (per_value(records["first_name"], given_name),
            per_value(records["last_name"], lambda v: v.strip().lower() if v else None))


def _names_conflict(names: tuple[list[str | None], list[str | None]], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """True where both records name a first (or last) name and the two are clearly different."""
    out = np.zeros(len(a), dtype=bool)
    for k, (i, j) in enumerate(zip(a.tolist(), b.tolist())):
        for values in names:
            x, y = values[i], values[j]
            if x and y and x != y and difflib.SequenceMatcher(None, x, y).ratio() < NAME_SIMILAR:
                out[k] = True
                break
    return out
