"""The `grpc_code` values the rules and dashboards match are the ones the library emits.

The SLO rules and dashboards spell codes as grpc-go does (`Unavailable`); the library once
emitted Python's enum names (`UNAVAILABLE`), so the order service's availability SLI counted no
server error at all and its burn-rate page could never fire. These tests hold the two together.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from observability.grpc._common import METRIC_CODE_LABELS
from observability.grpc.server import SERVER_ERROR_CODES
from threadline_native.paths import find_project_root

_MATCHER = re.compile(r'grpc_code\s*(=~|!~|=|!=)\s*\\?"([^"\\]*)')


def _matchers() -> list[tuple[Path, str, str]]:
    compose = find_project_root() / "deploy" / "compose"
    files = [
        *sorted((compose / "prometheus" / "rules").glob("*.yml")),
        *sorted((compose / "grafana" / "dashboards").glob("*.json")),
    ]
    return [
        (path, op, value)
        for path in files
        for op, value in _MATCHER.findall(path.read_text(encoding="utf-8"))
    ]


def test_the_rules_and_dashboards_match_grpc_codes_at_all() -> None:
    assert any(op == "=~" for _, op, _ in _matchers())


@pytest.mark.parametrize(("path", "op", "value"), _matchers(), ids=lambda v: str(v)[-40:])
def test_every_matched_code_is_a_label_the_library_emits(path: Path, op: str, value: str) -> None:
    emitted = set(METRIC_CODE_LABELS.values())
    unknown = [code for code in value.split("|") if code not in emitted]
    assert not unknown, f"{path.name}: grpc_code{op}{value!r} names codes never emitted: {unknown}"


def test_the_server_error_matcher_is_exactly_the_server_error_codes() -> None:
    wanted = {METRIC_CODE_LABELS[code] for code in SERVER_ERROR_CODES}
    regexes = {value for _, op, value in _matchers() if op == "=~" and "Unavailable" in value}
    assert regexes, "no server-error matcher found in the rules or dashboards"
    for value in regexes:
        assert set(value.split("|")) == wanted
