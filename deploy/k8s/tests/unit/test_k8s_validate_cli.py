"""`make k8s-validate`: both overlays pass; a broken one is named, with object, field and rule,
and the exit status is 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from threadline_k8s.cli import main

BROKEN = Path(__file__).parent / "fixtures" / "broken-overlay"


def test_every_overlay_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "dev: rendered" in out
    assert "prod: rendered" in out
    assert "k8s-validate: 2 overlay(s) passed" in out


def test_broken_overlay_names_object_field_and_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(BROKEN)]) == 1
    out = capsys.readouterr().out
    assert (
        "Deployment/user: spec.template.spec.containers[user].readinessProbe: missing [probes]"
        in out
    )
    assert "Deployment/user: spec: Additional properties are not allowed" in out
    assert "[schema]" in out


def test_overlay_kustomize_refuses_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n")

    assert main([str(tmp_path)]) == 1
    assert "[render]" in capsys.readouterr().out
