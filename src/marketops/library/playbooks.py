"""Playbooks and process documents: markdown files in the workspace's ``library.playbooks_dir``
(``playbooks/`` by default), versioned like code. A file may start with YAML front matter:

```
---
title: Lead handoff process
owner: fran@acme.test
tags: [sales, leads]
updated: 2026-10-02
---
# Lead handoff process
...
```

Without front matter the title is the first ``# heading`` (else the file name), ``updated`` the
file's modification day. A playbook's *slug* is its file name without ``.md``. Pages created or
edited in the web app are written to the same folder, front matter included, so a reviewer sees
them in ``git diff`` like any other change.

Example:
    >>> p = parse_playbook("---\\ntitle: UTM conventions\\ntags: [utm, Paid]\\n---\\n# UTMs\\n## Sources\\nlower case",
    ...                    "utm-conventions")
    >>> p.title, p.tags, p.headings
    ('UTM conventions', ['utm', 'paid'], ['UTMs', 'Sources'])
    >>> slugify("Perché il lead scoring?"), slugify("Как мы считаем pipeline")
    ('perche-il-lead-scoring', 'kak-my-schitaem-pipeline')
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from marketops.errors import ConfigError, NotFound, ValidationFailed, did_you_mean

SUFFIXES = (".md", ".markdown")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
TITLE_MAX = 300
BODY_MAX = 500_000
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n?", re.DOTALL | re.MULTILINE)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.DOTALL | re.MULTILINE)
# Cyrillic has no accents to strip: spell it in Latin letters so a Russian title still makes a slug.
_CYRILLIC = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                     ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r", "s",
                      "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"], strict=True))


@dataclass
class Playbook:
    """One markdown document: its metadata, headings and body (front matter removed)."""

    slug: str
    title: str
    body: str
    owner: str = ""
    tags: list[str] = field(default_factory=list)
    updated: dt.date | None = None
    headings: list[str] = field(default_factory=list)
    #: Where it came from, relative to the workspace (``playbooks/utm.md``); empty when parsed from text.
    file: str = ""
    #: What was wrong with the front matter (the document is still shown and searched).
    problem: str | None = None

    def summary(self) -> dict[str, Any]:
        """The fields lists and the API show (no body)."""
        return {"slug": self.slug, "title": self.title, "owner": self.owner, "tags": list(self.tags),
                "updated": self.updated, "file": self.file, "headings": list(self.headings),
                "problem": self.problem}


def slugify(text: str) -> str:
    """A file-name-safe slug: lower case, accents dropped, Cyrillic spelled in Latin, words joined by '-'."""
    text = "".join(_CYRILLIC.get(ch, ch) for ch in str(text).lower())
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:80].strip("-")


def check_slug(slug: str) -> str:
    """``slug`` when it can name a file in the playbooks folder (no path tricks), else ValidationFailed."""
    s = str(slug or "").strip().lower()
    if not SLUG_RE.match(s):
        raise ValidationFailed(f"'{slug}' cannot name a playbook: use lower-case letters, digits and '-' "
                               "(e.g. lead-handoff)")
    return s


def _tags(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else re.split(r"[,;]", str(value))
    out: list[str] = []
    for item in items:
        t = " ".join(str(item).split()).lower()
        if t and t not in out:
            out.append(t[:60])
    return out


def _day(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip()[:10])


def headings_of(body: str) -> list[str]:
    """The markdown headings of ``body``, in order (headings inside code blocks don't count).

    >>> headings_of("# A\\ntext\\n```\\n# not one\\n```\\n### B ##")
    ['A', 'B']
    """
    return [m.group(2).strip() for m in _HEADING.finditer(_FENCE.sub("", body))]


FRONT_KEYS = ("title", "owner", "tags", "updated")


def parse_playbook(text: str, slug: str, *, file: str = "", mtime: float | None = None) -> Playbook:
    """A playbook from a markdown text; bad front matter is reported in ``problem`` (with its line),
    never fatal: a document with a typo in its header must still be found."""
    meta: dict[str, Any] = {}
    body, problem = text, None
    match = _FRONT.match(text)
    if match:
        body = text[match.end():]
        try:
            loaded = YAML(typ="safe").load(match.group(1)) or {}
            if not isinstance(loaded, dict):
                raise ValueError("the front matter must be 'key: value' lines")
            unknown = [k for k in loaded if k not in FRONT_KEYS]
            if unknown:
                problem = (f"{file or slug}: unknown front matter key '{unknown[0]}'"
                           f"{did_you_mean(str(unknown[0]), FRONT_KEYS)}; valid: {', '.join(FRONT_KEYS)}")
            meta = {k: v for k, v in loaded.items() if k in FRONT_KEYS}
            meta["updated"] = _day(meta.get("updated"))
        except YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f"{file or slug}:{mark.line + 2}" if mark else (file or slug)  # +1 for '---', +1 1-based
            problem, meta = f"{where}: the front matter is not valid YAML ({getattr(e, 'problem', e)})", {}
        except (ValueError, TypeError) as e:
            problem = f"{file or slug}: {e}"
            meta = {k: v for k, v in meta.items() if k != "updated"}
    headings = headings_of(body)
    title = " ".join(str(meta.get("title") or "").split())
    if not title:
        first = re.search(r"^#[ \t]+(.+?)[ \t#]*$", _FENCE.sub("", body), re.MULTILINE)
        title = first.group(1).strip() if first else slug.replace("-", " ").capitalize()
    updated = meta.get("updated")
    if updated is None and mtime is not None:
        updated = dt.date.fromtimestamp(mtime)
    return Playbook(slug=slug, title=title[:TITLE_MAX], body=body, owner=str(meta.get("owner") or "").strip(),
                    tags=_tags(meta.get("tags")), updated=updated, headings=headings, file=file, problem=problem)


# -- the folder ---------------------------------------------------------------------------------------
def playbooks_folder(root: Path, config: Any) -> Path:
    """The playbooks folder of the workspace at ``root`` (``config`` is its LibraryConfig)."""
    return Path(root) / config.playbooks_dir


def playbook_files(folder: Path) -> dict[str, Path]:
    """slug -> file of every markdown file directly in ``folder`` (hidden files skipped)."""
    if not folder.is_dir():
        return {}
    out: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in SUFFIXES and path.is_file() and not path.name.startswith("."):
            out.setdefault(path.stem.lower(), path)
    return out


def read_playbook_file(path: Path, root: Path | None = None) -> Playbook:
    """One playbook file (UTF-8; a BOM is fine)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError("the file is not UTF-8 text", file=str(path)) from None
    rel = os.path.relpath(path, root) if root is not None else path.name
    return parse_playbook(text, path.stem.lower(), file=rel.replace(os.sep, "/"), mtime=path.stat().st_mtime)


def load_playbooks(folder: Path, root: Path | None = None) -> list[Playbook]:
    """Every playbook in ``folder``, by title."""
    out = [read_playbook_file(p, root) for p in playbook_files(folder).values()]
    return sorted(out, key=lambda p: (p.title.lower(), p.slug))


def get_playbook(folder: Path, slug: str, root: Path | None = None) -> Playbook:
    """The playbook ``slug``, or NotFound naming the closest one."""
    files = playbook_files(folder)
    key = str(slug).strip().lower()
    if key not in files:
        raise NotFound(f"there is no playbook '{slug}'{did_you_mean(key, files)}",
                       hint="`marketops playbooks list` shows them")
    return read_playbook_file(files[key], root)


def filter_playbooks(playbooks: list[Playbook], *, tag: str | None = None, owner: str | None = None) -> list[Playbook]:
    """The playbooks carrying ``tag`` and owned by ``owner`` (both case-insensitive)."""
    out = playbooks
    if tag:
        out = [p for p in out if tag.strip().lower() in p.tags]
    if owner:
        out = [p for p in out if p.owner.lower() == owner.strip().lower()]
    return out


def tag_counts(playbooks: list[Playbook]) -> dict[str, int]:
    """tag -> how many playbooks carry it, most used first."""
    counts: dict[str, int] = {}
    for p in playbooks:
        for t in p.tags:
            counts[t] = counts.get(t, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


# -- writing -------------------------------------------------------------------------------------------
def render_file(title: str, body: str, *, owner: str = "", tags: list[str] | None = None,
                updated: dt.date | None = None) -> str:
    """The markdown file for a playbook: front matter, then the body.

    >>> print(render_file("UTM conventions", "Use lower case.", owner="fran", tags=["utm"],
    ...                   updated=dt.date(2026, 5, 1)), end="")
    ---
    title: UTM conventions
    owner: fran
    tags: [utm]
    updated: 2026-05-01
    ---
    Use lower case.
    """
    import json

    # JSON strings are valid YAML scalars: quoting this way survives colons, '#' and quotes in a title.
    def scalar(v: str) -> str:
        return v if re.fullmatch(r"[\w .@()/&+-]*[\w.)]", v) and not re.match(r"^(\d|yes|no|true|false|null)",
                                                                                  v, re.I) else json.dumps(v, ensure_ascii=False)

    lines = ["---", f"title: {scalar(title)}"]
    if owner:
        lines.append(f"owner: {scalar(owner)}")
    if tags:
        lines.append("tags: [" + ", ".join(scalar(t) for t in tags) + "]")
    if updated:
        lines.append(f"updated: {updated.isoformat()}")
    lines.append("---")
    return "\n".join(lines) + "\n" + body.replace("\r\n", "\n").rstrip("\n") + "\n"


def _checked(title: str, body: str) -> tuple[str, str]:
    title = " ".join(str(title or "").split())
    if not title:
        raise ValidationFailed("a playbook needs a title")
    if len(title) > TITLE_MAX:
        raise ValidationFailed(f"a playbook title has at most {TITLE_MAX} characters; this one has {len(title)}")
    body = str(body or "")
    if len(body) > BODY_MAX:
        raise ValidationFailed(f"a playbook has at most {BODY_MAX:,} characters; this one has {len(body):,}")
    return title, body


def save_playbook(folder: Path, *, title: str, body: str, owner: str = "", tags: Any = None,
                  slug: str | None = None, create: bool = True, today: dt.date | None = None,
                  root: Path | None = None) -> Playbook:
    """Write a playbook file. ``create``: a new one (its slug from ``slug`` or the title; refused
    when the file exists); else overwrite the existing ``slug`` (NotFound when missing)."""
    title, body = _checked(title, body)
    files = playbook_files(folder)
    if create:
        key = check_slug(slug) if slug else slugify(title)
        if not key:
            raise ValidationFailed("give the playbook a slug (letters and digits): its title has none")
        if key in files:
            raise ValidationFailed(f"a playbook '{key}' already exists ({files[key].name}); choose another "
                                   "title or slug, or edit that one")
        path = folder / f"{key}.md"
    else:
        key = check_slug(slug or "")
        if key not in files:
            raise NotFound(f"there is no playbook '{slug}'{did_you_mean(key, files)}")
        path = files[key]
    folder.mkdir(parents=True, exist_ok=True)
    text = render_file(title, body, owner=" ".join(str(owner or "").split())[:320], tags=_tags(tags),
                       updated=today or dt.date.today())
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)  # readers never see half a file
    return read_playbook_file(path, root)


def delete_playbook(folder: Path, slug: str) -> Path:
    """Remove the playbook file ``slug``; returns the path removed."""
    files = playbook_files(folder)
    key = check_slug(slug)
    if key not in files:
        raise NotFound(f"there is no playbook '{slug}'{did_you_mean(key, files)}")
    files[key].unlink()
    return files[key]


__all__ = ["Playbook", "check_slug", "delete_playbook", "filter_playbooks", "get_playbook", "headings_of",
           "load_playbooks", "parse_playbook", "playbook_files", "playbooks_folder", "read_playbook_file",
           "render_file", "save_playbook", "slugify", "tag_counts"]
