"""Full-text search over the playbooks: SQLite FTS5 (built into Python's sqlite3, works offline).

The index is one file under ``.marketops/`` (``library_index.sqlite``), rebuilt lazily: before every
search the folder is listed and only files whose modification time or size changed (or that are
new or gone) are re-read. Ranking is BM25 with weights: a match in the title counts most, then the
headings, the tags, the body. The tokenizer folds case and drops accents (``unicode61
remove_diacritics 2``), so ``perche`` finds "perché" and ``ОТЧЁТ`` finds "отчёт"; there is no
stemming, so every word of the query also matches as a prefix ("webinar" finds "webinars"), and an
English plural also finds its singular ("webinars" finds "webinar").

Query syntax: words (all must match; when no document has them all, any may), ``"quoted
phrases"``, and ``-word`` to exclude. Anything else is taken literally: a user's query is never
FTS5 syntax, so no input can make the search fail.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "utm.md").write_text("# UTM conventions\\nSources are lower case: linkedin, google.")
    >>> _ = (d / "webinar.md").write_text("# Webinar playbook\\nPromote on LinkedIn two weeks before.")
    >>> index = PlaybookIndex(d, d / "index.sqlite")
    >>> [h.slug for h in index.search("linkedin")]
    ['utm', 'webinar']
    >>> index.search("webinars")[0].snippet_html
    '<mark>Webinar</mark> playbook Promote on LinkedIn two weeks before.'
"""

from __future__ import annotations

import html
import re
import sqlite3
import threading
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marketops.errors import MarketopsError
from marketops.library.playbooks import Playbook, playbook_files, read_playbook_file

INDEX_FILE = "library_index.sqlite"
#: BM25 weights of the columns: slug (not searched), title, headings, tags, body.
WEIGHTS = (0.0, 10.0, 5.0, 3.0, 1.0)
_OPEN, _CLOSE = "\x02", "\x03"
_TERM = re.compile(r'(-?)"([^"]*)"|(-?)([^\s"]+)')
_WORD = re.compile(r"\w+", re.UNICODE)
_LOCK = threading.Lock()
SCHEMA_VERSION = "2"


@dataclass(frozen=True)
class SearchHit:
    """One document found: its rank score (higher is better), and a snippet around the match."""

    slug: str
    title: str
    score: float
    #: The snippet as plain text (no markers).
    snippet: str
    #: The snippet as HTML: text escaped, matched words in ``<mark>``.
    snippet_html: str
    tags: tuple[str, ...] = ()
    owner: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"slug": self.slug, "title": self.title, "score": round(self.score, 4), "snippet": self.snippet,
                "snippet_html": self.snippet_html, "tags": list(self.tags), "owner": self.owner}


def fts5_available() -> bool:
    """Whether this Python's SQLite has FTS5 (CPython's builds do)."""
    try:
        with closing(sqlite3.connect(":memory:")) as c:
            c.execute("CREATE VIRTUAL TABLE t USING fts5(a)")
        return True
    except sqlite3.OperationalError:
        return False


def _quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _singular(word: str) -> str:
    """An English plural's stem, so that its prefix also finds the singular ("webinars" -> "webinar").

    >>> _singular("webinars"), _singular("process"), _singular("utms")
    ('webinar', 'process', 'utms')
    """
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word


def match_expression(query: str, *, any_word: bool = False) -> str | None:
    """The FTS5 MATCH expression for a user's query; None when it has no word.

    >>> match_expression('lead handoff "service level" -draft')
    '"lead"* AND "handoff"* AND "service level" NOT "draft"*'
    >>> match_expression("UTM OR  NEAR(")
    '"utm"* AND "or"* AND "near"*'
    >>> match_expression("a b", any_word=True)
    '"a"* OR "b"*'
    >>> match_expression("  ?! ") is None
    True
    """
    include: list[str] = []
    exclude: list[str] = []
    for m in _TERM.finditer(str(query or "")):
        negative = bool(m.group(1) or m.group(3))
        if m.group(2) is not None:  # a phrase: its words, in order
            words = _WORD.findall(m.group(2).lower())
            parts = [_quote(" ".join(words))] if words else []
        else:
            parts = [_quote(_singular(w)) + "*" for w in _WORD.findall(m.group(4).lower())]
        (exclude if negative else include).extend(parts)
    if not include:
        return None
    expr = (" OR " if any_word else " AND ").join(include)
    if any_word and len(include) > 1 and exclude:
        expr = f"({expr})"
    for e in exclude:
        expr += f" NOT {e}"
    return expr


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"^[ \t]*(?:#{1,6}[ \t]+|[-*+][ \t]+\[[ xX]\][ \t]+|[-*+>][ \t]+|\d+[.)][ \t]+)|[*_`~|]+|^[ \t]*[-=]{3,}[ \t]*$",
                     re.MULTILINE)


def plain_text(markdown: str) -> str:
    """Markdown without its markup, for the index and the snippets (links keep their text).

    >>> plain_text("## Steps\\n- [ ] Tag the **UTM** in [the sheet](https://x.test)\\n1. `done`")
    'Steps\\nTag the UTM in the sheet\\ndone'
    """
    return _MARKUP.sub("", _LINK.sub(r"\1", markdown))


def _snippet(marked: str) -> tuple[str, str]:
    plain = " ".join(marked.replace(_OPEN, "").replace(_CLOSE, "").split())
    escaped = html.escape(" ".join(marked.split()), quote=False)
    return plain, escaped.replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")


class PlaybookIndex:
    """The search index of one playbooks folder, kept in the SQLite file ``index_path``."""

    def __init__(self, folder: Path, index_path: Path, root: Path | None = None) -> None:
        self.folder = Path(folder)
        self.index_path = Path(index_path)
        self.root = root

    def _connect(self) -> sqlite3.Connection:
        self.index_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.index_path, timeout=30)
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            version = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if version is None or version[0] != SCHEMA_VERSION:
                conn.executescript("DROP TABLE IF EXISTS files; DROP TABLE IF EXISTS docs;")
                conn.execute("CREATE TABLE files (slug TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER, "
                             "title TEXT, owner TEXT, tags TEXT)")
                conn.execute("CREATE VIRTUAL TABLE docs USING fts5(slug UNINDEXED, title, headings, tags, body, "
                             "tokenize = 'unicode61 remove_diacritics 2')")
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
                conn.commit()
        except sqlite3.OperationalError as e:
            conn.close()
            if "fts5" in str(e).lower():
                raise MarketopsError("playbook search needs SQLite with FTS5, which this Python lacks",
                                     hint="use a CPython build from python.org or your distribution") from None
            raise
        return conn

    def refresh(self) -> dict[str, int]:
        """Bring the index up to date with the folder; returns how many files were added, updated, removed."""
        files = playbook_files(self.folder)
        stats = {slug: (p.stat().st_mtime_ns, p.stat().st_size) for slug, p in files.items()}
        counts = {"added": 0, "updated": 0, "removed": 0}
        with _LOCK, closing(self._connect()) as conn:
            known = {s: (m, z) for s, m, z in conn.execute("SELECT slug, mtime_ns, size FROM files")}
            if known == stats:
                return counts
            with conn:  # one transaction: a search sees the old index or the new one
                for slug in set(known) - set(stats):
                    conn.execute("DELETE FROM docs WHERE slug = ?", (slug,))
                    conn.execute("DELETE FROM files WHERE slug = ?", (slug,))
                    counts["removed"] += 1
                for slug, stat in stats.items():
                    if known.get(slug) == stat:
                        continue
                    try:
                        doc = read_playbook_file(files[slug], self.root)
                    except (MarketopsError, OSError):
                        continue  # unreadable now (being written?): the next search tries again
                    counts["updated" if slug in known else "added"] += 1
                    self._put(conn, doc, stat)
        return counts

    @staticmethod
    def _put(conn: sqlite3.Connection, doc: Playbook, stat: tuple[int, int]) -> None:
        conn.execute("DELETE FROM docs WHERE slug = ?", (doc.slug,))
        conn.execute("INSERT INTO docs (slug, title, headings, tags, body) VALUES (?, ?, ?, ?, ?)",
                     (doc.slug, doc.title, "\n".join(doc.headings), " ".join(doc.tags), plain_text(doc.body)))
        conn.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
                     (doc.slug, stat[0], stat[1], doc.title, doc.owner, "\t".join(doc.tags)))

    def search(self, query: str, *, limit: int = 20, tag: str | None = None) -> list[SearchHit]:
        """The documents matching ``query``, best first (see the module's doc for the syntax);
        ``tag`` keeps those carrying that tag."""
        self.refresh()
        hits = self._run(match_expression(query), limit, tag)
        if not hits and len(_WORD.findall(str(query or ""))) > 1:
            hits = self._run(match_expression(query, any_word=True), limit, tag)
        return hits

    def _run(self, expr: str | None, limit: int, tag: str | None) -> list[SearchHit]:
        if expr is None:
            return []
        weights = ", ".join(str(w) for w in WEIGHTS)
        sql = (f"SELECT d.slug, f.title, bm25(docs, {weights}) AS rank, "
               f"snippet(docs, 4, ?, ?, '…', 16), f.tags, f.owner "
               "FROM docs d JOIN files f ON f.slug = d.slug WHERE docs MATCH ? ORDER BY rank, d.slug")
        with closing(self._connect()) as conn:
            try:
                rows = conn.execute(sql, (_OPEN, _CLOSE, expr)).fetchall()
            except sqlite3.OperationalError:  # a query FTS5 still refuses: nothing found, never an error page
                return []
        out = []
        wanted = tag.strip().lower() if tag else None
        for slug, title, rank, marked, tags, owner in rows:
            tag_list = tuple(t for t in (tags or "").split("\t") if t)
            if wanted and wanted not in tag_list:
                continue
            plain, marked_html = _snippet(marked or "")
            out.append(SearchHit(slug, title, -float(rank), plain, marked_html, tag_list, owner or ""))
            if len(out) >= limit:
                break
        return out


def workspace_index(root: Path, config: Any, state_dir: Path) -> PlaybookIndex:
    """The index of a workspace's playbooks (``config`` is its LibraryConfig)."""
    return PlaybookIndex(Path(root) / config.playbooks_dir, Path(state_dir) / INDEX_FILE, root=Path(root))


__all__ = ["INDEX_FILE", "PlaybookIndex", "SearchHit", "fts5_available", "match_expression", "workspace_index"]
