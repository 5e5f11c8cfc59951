"""Fixtures for the native stack tool's own tests: a throwaway project layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from threadline_native.component import Context
from threadline_native.paths import Layout, find_project_root
from threadline_native.versions import load_versions


@pytest.fixture
def scratch_context(tmp_path: Path) -> Context:
    """A layout whose state lives in tmp_path but whose deploy/ is the repository's own."""
    (tmp_path / "deploy").symlink_to(find_project_root(Path(__file__).parent) / "deploy")
    layout = Layout(tmp_path)
    return Context(layout=layout, versions=load_versions(layout.versions_file))
