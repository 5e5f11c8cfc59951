"""The generator's cost benchmark runs end to end: stubs up, each user class alone, a page."""

from __future__ import annotations

from pathlib import Path

import pytest

from threadline_loadtests.cli import EXIT_PASS, main

pytestmark = pytest.mark.e2e


def test_each_user_class_is_measured_against_the_stubs(tmp_path: Path) -> None:
    doc = tmp_path / "generator.md"

    exit_code = main(
        [
            "generator-cost",
            "--users", "4",
            "--run-time", "6s",
            "--doc", str(doc),
            "--out", str(tmp_path / "reports"),
        ]
    )  # fmt: skip

    assert exit_code == EXIT_PASS
    rows = [line for line in doc.read_text().splitlines() if line.startswith("| ") and "(" in line]
    assert [row.split(" ")[1] for row in rows] == ["AccountHolder", "Shopper"]
    for row in rows:
        users, delivered, _p99, failures, cpu_us = row.rstrip(" |").split(" | ")[1:]
        assert (users, failures) == ("4", "0"), row
        assert float(delivered) > 0, row
        assert float(cpu_us) > 0, row
