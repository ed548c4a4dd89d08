"""Playbooks rendered to HTML with markdown-it-py (CommonMark plus tables and strikethrough).

Raw HTML in a file is never passed through: ``html=False`` makes markdown-it show it as text, and
its link check refuses ``javascript:``, ``vbscript:`` and most ``data:`` URLs. Links to another
playbook by file name (``[UTMs](utm-conventions.md)``) go to that playbook's page.

Example:
    >>> render_markdown("# Steps\\n<script>alert(1)</script>\\n\\n[UTMs](utm-conventions.md) [x](javascript:alert(1))")
    '<h1>Steps</h1>\\n<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\\n<p><a href="/playbooks/utm-conventions">UTMs</a> [x](javascript:alert(1))</p>\\n'
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

_PLAYBOOK_LINK = re.compile(r"^(?:\./)?([a-z0-9][a-z0-9-]{0,99})\.(?:md|markdown)(#[\w-]*)?$", re.IGNORECASE)


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])

    def link_open(self, tokens, idx, options, env):
        token = tokens[idx]
        href = token.attrGet("href") or ""
        m = _PLAYBOOK_LINK.match(href)
        if m:
            token.attrSet("href", f"/playbooks/{m.group(1).lower()}{m.group(2) or ''}")
        elif href.startswith(("http://", "https://")):
            token.attrSet("rel", "noopener noreferrer")
        return self.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


_MD = _parser()


def render_markdown(text: str) -> str:
    """Sanitised HTML of a playbook's markdown body."""
    return _MD.render(text or "")


__all__ = ["render_markdown"]
