"""A new service's entries in deploy/k8s's kustomizations (threadline_native.scaffold.k8s): where
they go, that the comment closing a list stays after its last item, and that removing them gives
every file back byte for byte (on copies of the real files)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from threadline_native.paths import find_project_root
from threadline_native.scaffold import k8s
from threadline_native.scaffold.spec import ServiceSpec

# A name no fork is likely to have generated: the real kustomizations are copied.
SPEC = ServiceSpec("scaffoldprobe", "http", 8001, 9111)
BASE = Path("deploy/k8s/base/kustomization.yaml")
DEV = Path("deploy/k8s/overlays/dev/kustomization.yaml")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = find_project_root()
    for relative in (
        k8s.EDITS_TEMPLATE,
        *{e.file for e in k8s.edits(root, ServiceSpec("user", "http", 8000, 9101))},
    ):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, tmp_path / relative)
    pyproject = tmp_path / SPEC.directory / "pyproject.toml"
    pyproject.parent.mkdir(parents=True)
    pyproject.write_text('[project]\nname = "scaffoldprobe-service"\nversion = "0.3.0"\n')
    return tmp_path


def edited(tree: Path) -> dict[Path, bytes]:
    return {e.file: (tree / e.file).read_bytes() for e in k8s.edits(tree, SPEC)}


def test_entries_go_into_each_kustomization(tree: Path) -> None:
    k8s.register(tree, SPEC, lambda relative: tree / relative)

    base = yaml.safe_load((tree / BASE).read_text())
    dev = yaml.safe_load((tree / DEV).read_text())
    assert base["resources"][-1] == "scaffoldprobe.yaml"
    assert base["images"][-1] == {"name": "threadline/scaffoldprobe", "newTag": "0.3.0"}
    assert "SCAFFOLDPROBE_ENVIRONMENT=production" in base["configMapGenerator"][-1]["literals"]
    assert dev["configMapGenerator"][-1]["behavior"] == "merge"
    assert dev["secretGenerator"][-1]["name"] == "scaffoldprobe-secrets"
    namespace = yaml.safe_load(
        (tree / "deploy/k8s/overlays/prod/namespace-secrets.yaml").read_text()
    )
    provided = namespace["metadata"]["annotations"]["threadline.dev/external-secrets"]
    assert provided.split(",")[-1] == "scaffoldprobe-secrets"


def test_a_comment_closing_a_list_stays_after_the_new_last_item(tree: Path) -> None:
    k8s.register(tree, SPEC, lambda relative: tree / relative)

    base = (tree / BASE).read_text()
    dev = (tree / DEV).read_text()
    assert "  - scaffoldprobe.yaml\n# The services' image tag" in base
    assert "SCAFFOLDPROBE_ENVIRONMENT=development\n# Development values only" in dev


def test_removing_gives_every_file_back_byte_for_byte(tree: Path) -> None:
    before = edited(tree)
    k8s.register(tree, SPEC, lambda relative: tree / relative)
    assert edited(tree) != before

    k8s.unregister(tree, SPEC, lambda relative: tree / relative)

    assert edited(tree) == before


def test_a_kustomization_without_the_list_is_named(tree: Path) -> None:
    (tree / DEV).write_text("apiVersion: kustomize.config.k8s.io/v1beta1\nresources: []\n")

    with pytest.raises(
        k8s.K8sRegistrationError, match=r"overlays/dev/kustomization\.yaml: no 'configMapGenerator'"
    ):
        k8s.register(tree, SPEC, lambda relative: tree / relative)
