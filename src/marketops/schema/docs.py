"""Renders ``docs/data-model.md`` from the model itself, so the docs cannot drift from the code.

``python -m marketops.schema.docs > docs/data-model.md`` rewrites it; a test fails when the file
and the model disagree.

Example:
    >>> "## people" in render()
    True
"""

from __future__ import annotations

from marketops.schema import ENTITIES, LINEAGE, PROPERTIES

INTRO = """# Data model

marketops turns every export into a small set of **canonical tables**. Each row keeps its
lineage (which system, file, row and load it came from), and columns of a file that have no
canonical home are kept in `properties` (a JSON object), never dropped.

Cleaned columns keep what was loaded: the pipeline's `normalise` step writes the clean value in the
column itself (`email`), the value as loaded beside it (`email_original`) and, when a value was
rejected, the reason in plain words (`email_issue`: "a placeholder, not a real address"). A rejected
value leaves the column empty; nothing is silently dropped or guessed. Each distinct value is
normalised once per workspace: later runs answer known values from a cache in the warehouse
(`_normalised_values_<kind>`), rebuilt by itself when the rules or a setting such as
`default_region` change.

After cleaning, identity resolution adds `person_id` (and `account_id` on people): see
[identity.md](identity.md).

Every canonical table also has `record_key`: the source system and the record's natural key
(`hubspot:1234`, `google_ads:2024-03-12|brand|…`). When an export is loaded again, or a newer export
overlaps an older one, rows with the same key are *updated*: the most recently modified version wins,
then the latest load.

Types: `string`, `int64`, `float64`, `decimal(18, 4)` for money (exact to the cent), `date`,
`timestamp` (always UTC: values with a zone are converted, values without one are read in the
workspace's `timezone`), `boolean`.

In Python: `marketops.open("DIR").people` is an Ibis table; in SQL, the DuckDB warehouse
(`.marketops/warehouse.duckdb`) has a view per table.

This page is generated from `src/marketops/schema/` (`python -m marketops.schema.docs`).
"""


def _key(entity) -> str:
    parts = []
    for p in entity.key:
        parts.append(" or ".join(f"`{c}`" for c in p) if isinstance(p, tuple) else f"`{p}`")
    return " + ".join(["`_source_system`", *parts])


def render() -> str:
    out = [INTRO]
    for e in ENTITIES.values():
        out.append(f"\n## {e.name}\n\n{e.description}\n\nNatural key: {_key(e)}"
                   + (f"; newest by `{e.updated_at}`." if e.updated_at else ".") + "\n")
        out.append("| column | type | required | meaning | headers recognised (examples) |")
        out.append("|---|---|---|---|---|")
        out.append("| `record_key` | string | yes | Source system and natural key of the record. | |")
        model = set(e.column_names)
        for c in e.published_columns:
            cleaning = e.cleaning(c.name)
            meaning = c.description
            if cleaning:
                meaning += f" Cleaned: {cleaning.rule}."
            elif c in e.derived or c in e.resolved:
                meaning += " (computed)"
            required = "yes" if c.required or c in (PROPERTIES, *LINEAGE) else ""
            examples = ", ".join(f"`{s}`" for s in c.synonyms[:8]) if c.name in model else ""
            out.append(f"| `{c.name}` | {c.storage_type} | {required} | {meaning} | {examples} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render(), end="")
