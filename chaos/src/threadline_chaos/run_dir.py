"""The directory of the drill run in progress, where activities leave what the verdict reads.

The runner sets THREADLINE_CHAOS_RUN_DIR for `chaos run`; an experiment run by hand without it
writes to a temporary directory of its own (nothing is lost, nothing read).
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

ENV = "THREADLINE_CHAOS_RUN_DIR"
GUARD_TRIP_FILE = "guard-tripped.json"
LOAD_DIR = "load"


@cache
def _fallback() -> Path:
    return Path(tempfile.mkdtemp(prefix="threadline-chaos-"))


def current() -> Path:
    """This run's directory (created)."""
    path = Path(os.environ[ENV]) if os.environ.get(ENV) else _fallback()
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_json(name: str, data: Any) -> Path:
    path = current() / name
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path
