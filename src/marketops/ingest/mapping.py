"""Deciding what a file is: which entity, which source system, which header feeds which column.

Rules in ``marketops.yaml`` win, then a recognised vendor export, then header matching against
the canonical model. A file that fits nothing well enough raises :class:`MappingNeeded` with a
proposal that ``marketops map FILE --write`` turns into a ``sources:`` rule.

Example:
    >>> plan = plan_mapping(["Email", "Nome", "Cognome"], file_name="leads.csv")
    >>> plan.entity, plan.columns["Nome"]
    ('people', 'first_name')
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from marketops.errors import SourceError
from marketops.ingest import headers as header_match
from marketops.ingest import vendors
from marketops.schema import ENTITIES
from marketops.settings import SourceRule

#: Below this share of recognised headers a file is not loaded on a guess.
MIN_SCORE = 0.3


@dataclass
class MappingPlan:
    """How one table of a file maps onto a canonical entity."""

    entity: str
    system: str
    format: str  # vendor format name, a workspace rule ("rule:<pattern>") or "generic"
    label: str
    columns: dict[str, str | None]  # header -> canonical column (None: kept as a custom property)
    constants: dict[str, str] = field(default_factory=dict)
    splits: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    sums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    footer_prefixes: tuple[str, ...] = ()
    warnings: list[str] = field(default_factory=list)
    confidence: dict[str, float] = field(default_factory=dict)

    @property
    def mapped(self) -> dict[str, str]:
        return {h: c for h, c in self.columns.items() if c}

    @property
    def custom(self) -> list[str]:
        return [h for h, c in self.columns.items() if c is None and h not in self.splits
                and not any(h in hs for hs in self.sums.values())]


class MappingNeeded(SourceError):
    """The file's headers fit no entity well enough; carries a proposed mapping to review."""

    def __init__(self, file: str, proposal: MappingPlan | None) -> None:
        self.proposal = proposal
        what = (f"it looks most like {proposal.entity} but only {len(proposal.mapped)} of "
                f"{len(proposal.columns)} columns are recognised") if proposal else "no column is recognised"
        super().__init__(f"cannot tell what this file holds: {what}", file=file,
                         hint=f"review a proposed mapping with `marketops map {file}` "
                              f"and save it with `marketops map {file} --write`")


def rule_for(file_name: str, rules: list[SourceRule]) -> SourceRule | None:
    """The first ``sources:`` rule whose pattern matches the file name (or its path)."""
    for rule in rules:
        if fnmatch.fnmatch(file_name, rule.pattern) or fnmatch.fnmatch(file_name.rsplit("/", 1)[-1], rule.pattern):
            return rule
    return None


def plan_mapping(headers: list[str], *, file_name: str, rules: list[SourceRule] | None = None,
                 entity: str | None = None, system: str | None = None) -> MappingPlan:
    """Decide how the table with ``headers`` maps onto the canonical model.

    ``entity`` and ``system`` are the user's explicit choice (CLI options) and win over guesses.
    """
    rule = rule_for(file_name, rules or [])
    if rule is not None and (rule.entity or entity):
        target = entity or rule.entity
        match = header_match.match_headers(headers, ENTITIES[target], overrides=rule.columns)
        return _plan_from_match(match, system or rule.system, f"rule:{rule.pattern}",
                                f"{target} (rule '{rule.pattern}')")
    fmt = vendors.recognise(headers)
    if fmt is not None and (entity is None or entity == fmt.entity):
        columns, constants = fmt.map_headers(headers)
        dupes = _duplicates(columns)
        plan = MappingPlan(
            entity=fmt.entity, system=system or fmt.system, format=fmt.name, label=fmt.label,
            columns=columns, constants=constants, splits=dict(fmt.splits), sums=dict(fmt.sums),
            footer_prefixes=tuple(fmt.footer_prefixes), confidence={h: 1.0 for h, c in columns.items() if c})
        plan.warnings += dupes
        return plan
    if entity is not None:
        match = header_match.match_headers(headers, ENTITIES[entity])
        return _plan_from_match(match, system or "generic", "generic", f"generic {entity} file")
    ranked = header_match.detect_entity(headers)
    best, score = ranked[0]
    match = header_match.match_headers(headers, ENTITIES[best])
    plan = _plan_from_match(match, system or "generic", "generic", f"generic {best} file")
    if score < MIN_SCORE or match.missing_required:
        raise MappingNeeded(file_name, plan)
    return plan


def _plan_from_match(match: header_match.HeaderMatch, system: str, fmt: str, label: str) -> MappingPlan:
    plan = MappingPlan(entity=match.entity, system=system, format=fmt, label=label,
                       columns=dict(match.columns), confidence=dict(match.confidence))
    plan.warnings += [f"column '{h}' repeats {c!r} (already read from an earlier column); "
                      f"kept as a custom property" for h, c in match.duplicates]
    return plan


def _duplicates(columns: dict[str, str | None]) -> list[str]:
    seen: dict[str, str] = {}
    out = []
    for h, c in list(columns.items()):
        if c is None:
            continue
        if c in seen:
            columns[h] = None
            out.append(f"column '{h}' repeats {c!r} (already read from '{seen[c]}'); kept as a custom property")
        else:
            seen[c] = h
    return out
