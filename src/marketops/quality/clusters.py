"""Links between source records -> persons, strongest links first, never-merge decisions held.

A link joins two records (by integer index) with a strength (a match probability; 1.0 for an
identifier or a decision) and a kind. Records joined by links form a person. A *never* pair is
two records that must not end up in one person, whichever chain of links would join them: within
any group of records that a never pair would otherwise share, links are taken strongest first and
a link that would put a never pair together is refused (greedy clustering). Groups without a never
pair are plain connected components, computed with numpy in a few passes.

Example:
    >>> import numpy as np
    >>> links = Links(np.array([0, 1]), np.array([1, 2]), np.array([0.99, 0.97]), np.array([0, 0]))
    >>> clustering = cluster(3, links, never=[(0, 2)])
    >>> clustering.labels.tolist(), clustering.accepted.tolist()
    ([0, 0, 2], [True, False])
    >>> cluster(3, links).labels.tolist()
    [0, 0, 0]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass
class Links:
    """Parallel arrays: left index, right index, strength, kind code (lower = preferred on ties)."""

    left: np.ndarray
    right: np.ndarray
    strength: np.ndarray
    kind: np.ndarray

    def __len__(self) -> int:
        return len(self.left)

    def ordered(self) -> Links:
        """Strongest first; on equal strength the preferred kind first, then by index (stable)."""
        order = np.lexsort((self.right, self.left, self.kind, -self.strength))
        return Links(self.left[order], self.right[order], self.strength[order], self.kind[order])

    @staticmethod
    def concat(parts: Iterable[Links]) -> Links:
        parts = list(parts)
        if not parts:
            return Links(*(np.empty(0, dtype=t) for t in (np.int64, np.int64, np.float64, np.int64)))
        return Links(*(np.concatenate([getattr(p, f) for p in parts]).astype(t) for f, t in
                       (("left", np.int64), ("right", np.int64), ("strength", np.float64), ("kind", np.int64))))


@dataclass
class Clustering:
    """``labels[i]``: the smallest record index of record i's person. ``accepted[k]``: link k
    (in the order given) lies inside one person. ``refused``: links a never pair turned down."""

    labels: np.ndarray
    accepted: np.ndarray
    refused: np.ndarray


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected components: each node's label is the smallest node index in its component."""
    labels = np.arange(n, dtype=np.int64)
    if len(left) == 0:
        return labels
    while True:
        lo = np.minimum(labels[left], labels[right])
        before = labels.copy()
        np.minimum.at(labels, left, lo)
        np.minimum.at(labels, right, lo)
        # pointer jumping: follow labels to their own labels until they settle
        while True:
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(labels, before):
            return labels


def cluster(n: int, links: Links, never: Iterable[tuple[int, int]] = ()) -> Clustering:
    """Group ``n`` records by ``links``; no person ever holds both records of a ``never`` pair."""
    labels = components(n, links.left, links.right)
    refused = np.zeros(len(links), dtype=bool)
    blocked = [(a, b) for a, b in never if a != b and labels[a] == labels[b]]
    if blocked:
        bad = {int(labels[a]) for a, b in blocked}
        in_bad = np.isin(labels[links.left], np.fromiter(bad, dtype=np.int64))
        idx = np.flatnonzero(in_bad)
        sub = Links(links.left[idx], links.right[idx], links.strength[idx], links.kind[idx])
        order = np.lexsort((sub.right, sub.left, sub.kind, -sub.strength))
        nodes = np.unique(np.concatenate([sub.left, sub.right, np.array([x for p in blocked for x in p])]))
        taken = _greedy(nodes, sub.left[order], sub.right[order], blocked)
        refused[idx[order[~taken]]] = True
        keep_nodes = np.isin(labels, np.fromiter(bad, dtype=np.int64))
        ok = ~refused
        relabel = components(n, links.left[ok], links.right[ok])
        labels = np.where(keep_nodes, relabel, labels)
    accepted = labels[links.left] == labels[links.right]
    return Clustering(labels, accepted, refused)


def _greedy(nodes: np.ndarray, left: np.ndarray, right: np.ndarray, never: list[tuple[int, int]]) -> np.ndarray:
    """Union-find over links in the given order, refusing a union that would join a never pair."""
    parent = {int(x): int(x) for x in nodes}
    # for each root, the records its group must never be joined with
    avoid: dict[int, set[int]] = {}
    for a, b in never:
        avoid.setdefault(a, set()).add(b)
        avoid.setdefault(b, set()).add(a)

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    taken = np.zeros(len(left), dtype=bool)
    for k, (a, b) in enumerate(zip(left.tolist(), right.tolist())):
        ra, rb = find(a), find(b)
        if ra == rb:
            taken[k] = True
            continue
        if any(find(x) == rb for x in avoid.get(ra, ())) or any(find(x) == ra for x in avoid.get(rb, ())):
            continue
        if rb < ra:
            ra, rb = rb, ra
        parent[rb] = ra
        avoid.setdefault(ra, set()).update(avoid.pop(rb, set()))
        taken[k] = True
    return taken
