"""An image's SBOM follows its Dockerfile: the `uv sync` arguments and Python are read from it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from threadline_native.paths import find_project_root
from threadline_native.scaffold.registry import load_registry
from threadline_native.supply_chain import interpreters
from threadline_native.supply_chain.interpreters import applies, image_interpreter
from threadline_native.supply_chain.workspace import (
    SupplyChainError,
    read_image,
    service_images,
)

ROOT = find_project_root(Path(__file__).parent)


def test_the_uv_sync_of_a_dockerfile_is_read_across_continuation_lines(tmp_path: Path) -> None:
    dockerfile = tmp_path / "svc" / "Dockerfile"
    dockerfile.parent.mkdir()
    dockerfile.write_text(
        "ARG PYTHON_VERSION=3.12\n"
        "FROM python:${PYTHON_VERSION}-slim AS build\n"
        "RUN --mount=type=cache,target=/uv-cache \\\n"
        "    uv sync --frozen --no-dev --package svc-service && rm -rf /tmp/x\n"
    )

    image = read_image(dockerfile)

    assert image.service == "svc"
    assert image.python_version == "3.12"
    assert image.sync_args == ("--frozen", "--no-dev", "--package", "svc-service")
    assert image.package == "svc-service"


def test_every_service_image_installs_its_own_package_without_dev_tools() -> None:
    images = {image.service: image for image in service_images(ROOT)}

    # Every registered service (a fork may have generated more than the two shipped).
    assert images.keys() == load_registry(ROOT).services.keys() >= {"order", "user"}
    assert {service: image.package for service, image in images.items()} == {
        service: f"{service}-service" for service in images
    }
    for image in images.values():
        assert {"--frozen", "--no-dev"} <= set(image.sync_args)


def test_markers_are_evaluated_for_the_python_asked_for() -> None:
    assert applies("python_version < '3.12'", "3.11")
    assert not applies("python_version < '3.12'", "3.13")
    assert applies("python_full_version >= '3.13'", "3.13")
    assert not applies("sys_platform == 'win32'", "3.13")


def test_without_the_images_python_a_stand_in_is_used_only_if_the_lock_selects_the_same_packages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = replace(service_images(ROOT)[0], python_version="3.99")
    monkeypatch.setattr(interpreters, "find_python", lambda root, version: None)
    same_everywhere = {"anyio": "", "uvloop": "sys_platform != 'win32'"}
    monkeypatch.setattr(interpreters, "exported_requirements", lambda root, *a: same_everywhere)

    interpreter = image_interpreter(ROOT, image)

    assert "the image's 3.99 is not on this machine" in interpreter.stand_in_note

    only_here = {
        **same_everywhere,
        "tomli": f"python_version == '{interpreters.running_version()}'",
    }
    monkeypatch.setattr(interpreters, "exported_requirements", lambda root, *a: only_here)
    with pytest.raises(SupplyChainError, match=r"other packages under 3\.\d+ \(tomli\)"):
        image_interpreter(ROOT, image)
