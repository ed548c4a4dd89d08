"""Shared fixtures: fresh workspaces, the test-case files, and a small sample company."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from marketops.workspace import Workspace

CASES = Path(__file__).parent / "cases"


@pytest.fixture
def cases() -> Path:
    return CASES


@pytest.fixture
def ws(tmp_path: Path):
    """An empty workspace on DuckDB."""
    workspace = Workspace.init(tmp_path / "acme")
    yield workspace
    workspace.close()


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    """The sample company's exports at a small size, generated once per test session."""
    from marketops.sample import generate

    out = tmp_path_factory.mktemp("sample")
    generate(out, contacts=2_000, months=6, seed=11)
    return out


@pytest.fixture
def sample_ws(tmp_path: Path, sample_dir: Path):
    """A workspace whose inbox holds the small sample company's exports."""
    workspace = Workspace.init(tmp_path / "sample")
    shutil.rmtree(workspace.inbox)
    shutil.copytree(sample_dir / "inbox", workspace.inbox)
    yield workspace
    workspace.close()
