"""Building blocks of the canonical model: value kinds, columns and entities.

An :class:`Entity` is one canonical table (people, touchpoints...). Its columns say what a value
means, how it is parsed from a file (its :class:`Kind`) and which header spellings map to it.
The natural key says which columns identify one real-world record, so that an overlapping
re-export updates a record instead of duplicating it.

Example:
    >>> from marketops.schema import ENTITIES
    >>> ENTITIES["people"].column("email").kind
    <Kind.STRING: 'string'>
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from marketops.errors import unknown_name


class Kind(str, Enum):
    """How a file's text becomes a typed value."""

    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    #: An amount of money; parsed with its currency symbol or code when the cell carries one.
    MONEY = "money"
    DATE = "date"
    #: A point in time, stored in UTC.
    TIMESTAMP = "timestamp"
    BOOLEAN = "boolean"


#: Storage types per kind, as Ibis type strings. Money keeps four decimals so that sums of
#: many small amounts stay exact to the cent.
STORAGE_TYPE = {
    Kind.STRING: "string",
    Kind.INTEGER: "int64",
    Kind.DECIMAL: "float64",
    Kind.MONEY: "decimal(18, 4)",
    Kind.DATE: "date",
    Kind.TIMESTAMP: "timestamp",
    Kind.BOOLEAN: "boolean",
}


@dataclass(frozen=True)
class Column:
    """One canonical column.

    ``synonyms`` are header spellings seen in the wild, in any language; they are compared after
    header normalisation (lower case, accents and punctuation removed), so "First Name",
    "first_name" and "FIRST-NAME" need one entry.
    """

    name: str
    kind: Kind
    description: str
    synonyms: tuple[str, ...] = ()
    #: A row without this value cannot be loaded.
    required: bool = False

    @property
    def storage_type(self) -> str:
        return STORAGE_TYPE[self.kind]


#: Lineage columns every canonical row carries.
LINEAGE = (
    Column("_source_system", Kind.STRING, "System the row came from (hubspot, salesforce, google_ads, generic...)."),
    Column("_source_file", Kind.STRING, "File name the row was read from."),
    Column("_source_row", Kind.INTEGER, "Row number in that file, counted as a spreadsheet does (header = row 1)."),
    Column("_load_id", Kind.STRING, "The load that brought the row in; see `marketops loads`."),
)

#: Columns identity resolution adds (see docs/identity.md): who a record or an event belongs to.
PERSON_ID = Column("person_id", Kind.STRING, "The person this row belongs to, after identity resolution "
                   "(`P` + a hash: stable across runs while the person's records do not change).")
PERSON_MATCH = Column("person_match", Kind.STRING, "How the event found its person: record_id, email, user_id, "
                      "anonymous_id; ambiguous_visitor when its visitor id was seen with two people.")
ACCOUNT_ID = Column("account_id", Kind.STRING, "The account (company) of the person, by domain and name.")
ACCOUNT_MATCH = Column("account_match", Kind.STRING, "How the account was found: account_record_id, "
                       "email_domain, website or company_name.")

#: Columns of a file that have no canonical home are kept here as a JSON object.
PROPERTIES = Column("properties", Kind.STRING, "Custom properties: the file's other columns, as a JSON object.")


@dataclass(frozen=True)
class Cleaning:
    """How the pipeline's ``normalise`` step cleans one column.

    ``kind`` names the normaliser (a key of ``marketops.quality.normalise.NORMALISERS``); ``rule``
    says in plain words what the clean value looks like, for the data-model page. The cleaned table
    keeps the loaded value in ``<column>_original`` and the reason for a rejection in ``<column>_issue``.
    """

    column: str
    kind: str
    rule: str

    @property
    def original(self) -> Column:
        return Column(f"{self.column}_original", Kind.STRING, f"`{self.column}` as loaded, before cleaning.")

    @property
    def issue(self) -> Column:
        return Column(f"{self.column}_issue", Kind.STRING,
                      f"Why `{self.column}` was rejected, in plain words; empty when it was kept or missing.")


@dataclass(frozen=True)
class Entity:
    """One canonical table.

    ``key`` lists the parts of the natural key; a part that is a tuple is the first non-empty of
    those columns (e.g. a campaign id, else its name). The source system is always part of the
    key. When every part is empty the row is identified by a hash of all its values.
    """

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str | tuple[str, ...], ...]
    #: When two rows share a key, the one with the latest value here wins (then the latest load).
    updated_at: str | None = None
    #: Words in a header set that hint strongly at this entity (used to pick the entity of a file).
    hints: tuple[str, ...] = field(default=())
    #: Columns the pipeline computes from the others (never read from a file).
    derived: tuple[Column, ...] = field(default=())
    #: Columns the ``normalise`` step cleans, keeping the loaded value beside the clean one.
    normalised: tuple[Cleaning, ...] = field(default=())
    #: Columns the identity steps add after lineage (``person_id``, ``account_id``...).
    resolved: tuple[Column, ...] = field(default=())

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise unknown_name(f"column of {self.name}", name, self.column_names)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def key_columns(self) -> list[str]:
        out: list[str] = []
        for part in self.key:
            out.extend(part if isinstance(part, tuple) else (part,))
        return out

    def cleaning(self, name: str) -> Cleaning | None:
        """How column ``name`` is cleaned, or None when it is kept as loaded."""
        return next((c for c in self.normalised if c.column == name), None)

    @property
    def table_columns(self) -> tuple[Column, ...]:
        """The columns of the published canonical table after ``record_key``, in order: each model
        column (a cleaned one followed by its ``_original`` and ``_issue``), the derived columns,
        custom properties, lineage: the table as the ``normalise`` step leaves it.

        >>> from marketops.schema import ENTITIES
        >>> [c.name for c in ENTITIES["accounts"].table_columns][:6]
        ['record_id', 'name', 'name_original', 'name_issue', 'domain', 'domain_original']
        """
        out: list[Column] = []
        for c in self.columns:
            out.append(c)
            cleaning = self.cleaning(c.name)
            if cleaning:
                out += [cleaning.original, cleaning.issue]
        return (*out, *self.derived, PROPERTIES, *LINEAGE)

    @property
    def published_columns(self) -> tuple[Column, ...]:
        """The published table's columns after ``record_key``: :attr:`table_columns`, then what the
        identity steps add (``person_id``...)."""
        return self.table_columns + self.resolved

    @property
    def all_columns(self) -> tuple[Column, ...]:
        """Columns read from files, then custom properties, then lineage: the raw table's shape."""
        return self.columns + (PROPERTIES,) + LINEAGE
