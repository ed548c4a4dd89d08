"""People's merge decisions, as identity resolution consumes them.

Reviewers decide about pairs of source records (identified by their ``record_key``): *always
merge* (accepting a suggested match, or joining two records the model missed) and *never merge*
(rejecting a match, or splitting a record off its person). Decisions live in the app database
(see :mod:`marketops.quality.review`); this module is the plain value the resolver reads, so
resolution does not depend on where decisions are stored.

Example:
    >>> d = Decisions.of(always=[("hubspot:2", "hubspot:1")], never=[("sf:9", "hubspot:1")])
    >>> d.always
    frozenset({('hubspot:1', 'hubspot:2')})
    >>> d.is_never("hubspot:1", "sf:9")
    True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


def pair(a: str, b: str) -> tuple[str, str]:
    """A pair of record keys in canonical (sorted) order, so (a, b) and (b, a) are one pair.

    >>> pair("z:1", "a:2")
    ('a:2', 'z:1')
    """
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class Decisions:
    """Pairs of record keys that must (``always``) or must not (``never``) end up as one person."""

    always: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    never: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    @classmethod
    def of(cls, *, always: Iterable[tuple[str, str]] = (), never: Iterable[tuple[str, str]] = ()) -> Decisions:
        """Build from pairs in any order; a pair that is in both keeps only the *never* decision,
        since splitting two people apart is the safer mistake."""
        never_set = frozenset(pair(a, b) for a, b in never if a != b)
        always_set = frozenset(pair(a, b) for a, b in always if a != b) - never_set
        return cls(always_set, never_set)

    def is_never(self, a: str, b: str) -> bool:
        return pair(a, b) in self.never

    def __bool__(self) -> bool:
        return bool(self.always or self.never)
