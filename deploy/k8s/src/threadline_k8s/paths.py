"""Where the kustomize tree, the CRD schemas and the pinned versions live."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from threadline_native.paths import Layout, find_project_root
from threadline_native.versions import load_versions


@dataclass(frozen=True)
class K8sLayout:
    """deploy/k8s inside the checkout, plus the project layout (caches, versions)."""

    project: Layout

    @classmethod
    def discover(cls) -> K8sLayout:
        return cls(Layout(find_project_root()))

    @property
    def root(self) -> Path:
        return self.project.root / "deploy" / "k8s"

    @property
    def overlays_dir(self) -> Path:
        return self.root / "overlays"

    def overlays(self) -> list[Path]:
        """Every overlay, in name order (dev, prod)."""
        return sorted(
            p for p in self.overlays_dir.iterdir() if (p / "kustomization.yaml").is_file()
        )

    @property
    def crd_dir(self) -> Path:
        return self.root / "crds"

    def version(self, key: str) -> str:
        versions = load_versions(self.project.versions_file)
        try:
            return versions[key]
        except KeyError:
            raise KeyError(f"{key} is not set in {self.project.versions_file}") from None
