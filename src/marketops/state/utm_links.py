"""UTM link register: every tagged link built with the link builder."""

from __future__ import annotations
