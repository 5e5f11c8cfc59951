"""kustomize, built once from its Go module, and `kustomize build` of an overlay.

The program module `sigs.k8s.io/kustomize/kustomize/v5` at KUSTOMIZE_VERSION (deploy/versions.env)
is the release built on `sigs.k8s.io/kustomize/api` v0.21.2, the version the approved Go module
list gives; it is built like the native stack's servers and cached under .threadline/cache/bin.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from threadline_k8s.paths import K8sLayout
from threadline_native.gobuild import GoBuild, ensure_built

KUSTOMIZE_MODULE = "sigs.k8s.io/kustomize/kustomize/v5"
# The release whose go.mod requires the approved kustomize/api version (v0.21.2); the next one
# (v5.8.3, api v0.21.3) needs a newer Go than the project's.
KUSTOMIZE_API_VERSION = "v0.21.2"


class RenderError(Exception):
    """kustomize refused an overlay; the message is kustomize's own."""


def kustomize_build(version: str) -> GoBuild:
    return GoBuild(
        name="kustomize",
        module=KUSTOMIZE_MODULE,
        version=f"v{version}",
        binaries={"kustomize": "."},
        # So `kustomize version` reports the release, as the published binaries do.
        version_vars={"sigs.k8s.io/kustomize/api/provenance.version": f"kustomize/v{version}"},
    )


def ensure_kustomize(layout: K8sLayout) -> Path:
    """The kustomize binary: built on first use (it says so, once), cached afterwards."""
    build = kustomize_build(layout.version("KUSTOMIZE_VERSION"))
    return ensure_built(layout.project, build) / "kustomize"


def build_overlay(kustomize: Path, overlay: Path) -> str:
    """`kustomize build` of one directory; its YAML stream, or RenderError with its message."""
    result = subprocess.run(
        [str(kustomize), "build", str(overlay)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RenderError(f"kustomize build {overlay.name}: {result.stderr.strip()}")
    return result.stdout


def parse_stream(stream: str) -> list[dict[str, Any]]:
    """The rendered objects, in kustomize's order."""
    return [doc for doc in yaml.safe_load_all(stream) if doc]


def render(overlay: Path, layout: K8sLayout | None = None) -> list[dict[str, Any]]:
    """Build kustomize if needed, render the overlay and parse it."""
    layout = layout or K8sLayout.discover()
    return parse_stream(build_overlay(ensure_kustomize(layout), overlay))
