"""Proposed mappings for files marketops cannot place on its own, and saving them as rules.

``marketops map FILE`` shows, for each column of the file, the canonical column it would feed,
how sure marketops is and a sample value; ``--write`` saves the mapping as a ``sources:`` rule
in ``marketops.yaml`` (comments and layout kept), so the next ingest of such a file just works.

Example:
    >>> import tempfile, pathlib
    >>> from marketops.workspace import Workspace
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
    >>> f = ws.inbox / "export.csv"
    >>> _ = f.write_text("Correo,Nombre,Cosa rara\\na@x.es,Ana,1\\n")
    >>> p = propose(ws, f)
    >>> p.plan.entity, p.plan.columns["Nombre"]
    ('people', 'first_name')
    >>> ws.close()
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML

from marketops.engine.duckdb import quiet_duckdb
from marketops.errors import SourceError
from marketops.ingest.mapping import MappingNeeded, MappingPlan, plan_mapping
from marketops.ingest.readers import read_file
from marketops.schema import ENTITIES
from marketops.workspace import CONFIG_FILE, Workspace


@dataclass
class Proposal:
    file: Path
    plan: MappingPlan
    samples: dict[str, str | None] = field(default_factory=dict)
    recognised: bool = True  # False when marketops would not load the file without a rule

    @property
    def missing_required(self) -> list[str]:
        have = set(self.plan.mapped.values()) | set(self.plan.constants)
        return [c.name for c in ENTITIES[self.plan.entity].columns if c.required and c.name not in have]

    def rows(self) -> list[dict]:
        return [{"header": h, "column": c or "(custom property)",
                 "confidence": f"{self.plan.confidence.get(h, 0):.0%}" if c else "",
                 "sample": (self.samples.get(h) or "")[:40]} for h, c in self.plan.columns.items()]

    def to_json(self) -> dict:
        return {"file": str(self.file), "entity": self.plan.entity, "system": self.plan.system,
                "format": self.plan.format, "recognised": self.recognised, "columns": self.plan.columns,
                "confidence": self.plan.confidence, "missing_required": self.missing_required,
                "warnings": self.plan.warnings}


def propose(ws: Workspace, file: Path, *, entity: str | None = None) -> Proposal:
    """How ``file`` would be mapped, with a sample value per column (nothing is loaded)."""
    con = quiet_duckdb()  # a private connection: mapping must not need the warehouse lock
    try:
        raw = read_file(file, con, tmp_dir=ws.tmp_dir)[0]
        rows = con.execute(f"SELECT * FROM {raw.relation} ORDER BY _row LIMIT 1").fetchall()
        first = rows[0] if rows else ()
        samples = dict(zip(raw.headers, first))
        try:
            plan = plan_mapping(raw.headers, file_name=file.name, rules=ws.config.sources, entity=entity)
            return Proposal(file, plan, samples)
        except MappingNeeded as e:
            if e.proposal is None:
                raise
            return Proposal(file, e.proposal, samples, recognised=False)
    finally:
        con.close()


def write_rule(ws: Workspace, file: Path, proposal: Proposal) -> int:
    """Add (or replace) the ``sources:`` rule for this file name; returns its line in the YAML."""
    if proposal.missing_required:
        raise SourceError(f"cannot save a mapping without {', '.join(proposal.missing_required)}",
                          file=str(file), hint="map a column onto it, or choose another --entity")
    path = ws.root / CONFIG_FILE
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    data = yaml.load(path.read_text(encoding="utf-8")) or {}
    rules = data.get("sources") or []
    rule = {"pattern": file.name, "system": proposal.plan.system,
            "entity": proposal.plan.entity, "columns": dict(proposal.plan.mapped)}
    rules = [r for r in rules if r.get("pattern") != file.name] + [rule]
    data["sources"] = rules
    # Written beside and swapped in whole: a run or a server reading marketops.yaml meanwhile
    # sees the old file or the new one, never half of it.
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        yaml.dump(data, f)
    shutil.copymode(path, tmp)
    tmp.replace(path)
    # Re-read so the saved rule is validated like any hand edit.
    from marketops.settings import load_config

    ws.config = load_config(path)
    text = path.read_text(encoding="utf-8").splitlines()
    return next((i + 1 for i, line in enumerate(text) if file.name in line and "pattern" in line), len(text))
