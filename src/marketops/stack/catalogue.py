"""The catalogue of common marketing tools and categories to pick from (``catalogue.yaml`` in this
package): each entry's vendor, category and the marketops source systems whose exports it produces.

Example:
    >>> hubspot = find_entry("hubspot")
    >>> hubspot.vendor, hubspot.category, hubspot.systems
    ('HubSpot', 'Marketing automation', ('hubspot',))
    >>> "CRM" in categories() and len(entries()) >= 30
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from ruamel.yaml import YAML

from marketops.errors import unknown_name

#: The marketops source systems a tool can be linked to (one per vendor format in ``ingest/vendors``).
SYSTEMS = ("hubspot", "salesforce", "ga4", "google_ads", "meta_ads", "linkedin_ads", "microsoft_ads", "mailchimp")


@dataclass(frozen=True)
class CatalogueEntry:
    """A well-known tool: what the add form fills in when it is picked."""

    name: str
    vendor: str
    category: str
    systems: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"name": self.name, "vendor": self.vendor, "category": self.category, "systems": list(self.systems)}


@cache
def _load() -> tuple[tuple[str, ...], tuple[CatalogueEntry, ...]]:
    data = YAML(typ="safe").load((resources.files("marketops.stack") / "catalogue.yaml").read_text(encoding="utf-8"))
    tools = tuple(CatalogueEntry(t["name"], t["vendor"], t["category"], tuple(t.get("systems") or ()))
                  for t in data["tools"])
    return tuple(data["categories"]), tools


def categories() -> tuple[str, ...]:
    """The catalogue's categories, in a reading order."""
    return _load()[0]


def entries(category: str | None = None) -> tuple[CatalogueEntry, ...]:
    """Every catalogue tool, or those of one category (case-insensitive)."""
    tools = _load()[1]
    if category:
        tools = tuple(t for t in tools if t.category.lower() == category.strip().lower())
    return tools


def find_entry(name: str) -> CatalogueEntry:
    """The catalogue tool called ``name`` (case-insensitive); NotFound with "did you mean" otherwise.

    >>> find_entry("Hubspt")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    marketops.errors.NotFound: unknown catalogue tool 'Hubspt' (did you mean 'HubSpot'?); valid: ...
    """
    by_name = {t.name.lower(): t for t in entries()}
    found = by_name.get(name.strip().lower())
    if found is None:
        raise unknown_name("catalogue tool", name, [t.name for t in entries()])
    return found
