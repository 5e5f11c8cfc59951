"""Rendered overlays, once per session: kustomize is built on first use (cached afterwards)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from threadline_k8s.kustomize import render
from threadline_k8s.paths import K8sLayout

Objects = list[dict[str, Any]]


@pytest.fixture(scope="session")
def layout() -> K8sLayout:
    return K8sLayout.discover()


@pytest.fixture(scope="session")
def rendered(layout: K8sLayout) -> dict[str, Objects]:
    """Every overlay's objects by overlay name (dev, prod)."""
    return {overlay.name: render(overlay, layout) for overlay in layout.overlays()}


@pytest.fixture
def dev(rendered: dict[str, Objects]) -> Objects:
    """A copy of the dev overlay's objects that a test may break."""
    return copy.deepcopy(rendered["dev"])


@pytest.fixture
def prod(rendered: dict[str, Objects]) -> Objects:
    return copy.deepcopy(rendered["prod"])
