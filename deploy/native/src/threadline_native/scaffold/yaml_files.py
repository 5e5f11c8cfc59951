"""Round-trip YAML: comments, order, quotes and layout kept, so an edit undone is no edit."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def load(path: Path) -> Any:
    return _yaml().load(path.read_text())


def dump(data: Any, path: Path) -> None:
    out = io.StringIO()
    _yaml().dump(data, out)
    path.write_text(out.getvalue())


def parse(text: str) -> Any:
    """A YAML fragment as round-trip nodes (flow style and comments as written)."""
    return _yaml().load(text)
