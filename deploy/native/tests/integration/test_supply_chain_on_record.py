"""The real SBOMs of the locked workspace: what each image ships, with every licence.

Not marked `integration`: these need no server, only uv, its cache and the lock, so they run
with the unit tests too. The SBOMs are built once for the session (about 15 s), in a temporary
directory: `make sbom` is what writes reports/sbom/.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from threadline_native.paths import find_project_root
from threadline_native.supply_chain.interpreters import applies
from threadline_native.supply_chain.licences import release_blockers
from threadline_native.supply_chain.sbom import write_sboms
from threadline_native.supply_chain.workspace import (
    canonical_name,
    exported_requirements,
    service_images,
    workspace_members,
)

ROOT = find_project_root(Path(__file__).parent).resolve()
SERVICES = [image.service for image in service_images(ROOT)]
FIRST_PARTY = {member.name for member in workspace_members(ROOT)}


@pytest.fixture(scope="session")
def sboms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    out_dir = tmp_path_factory.mktemp("sbom")
    write_sboms(ROOT, out_dir)
    return {path.name: json.loads(path.read_text()) for path in out_dir.glob("*.cdx.json")}


def names(bom: dict[str, Any]) -> set[str]:
    return {canonical_name(component["name"]) for component in bom["components"]}


@pytest.mark.parametrize("service", SERVICES)
def test_the_service_image_ships_no_gpl_agpl_sspl_or_unlicensed_package(
    sboms: dict[str, dict[str, Any]], service: str
) -> None:
    blockers = release_blockers(sboms[f"{service}.cdx.json"])

    assert not blockers, f"the {service} image would ship:\n" + "\n".join(map(str, blockers))


@pytest.mark.parametrize("service", SERVICES)
def test_the_image_sbom_lists_exactly_what_its_dockerfile_installs(
    sboms: dict[str, dict[str, Any]], service: str
) -> None:
    [image] = [image for image in service_images(ROOT) if image.service == service]
    locked = exported_requirements(ROOT, *image.sync_args)
    installed = {
        name
        for name, marker in locked.items()
        if not marker or applies(marker, image.python_version)
    }

    assert names(sboms[f"{service}.cdx.json"]) - FIRST_PARTY == installed


def test_every_component_of_every_sbom_carries_its_licence(
    sboms: dict[str, dict[str, Any]],
) -> None:
    unlicensed = [
        f"{file}: {component['name']}"
        for file, bom in sboms.items()
        for component in [bom["metadata"]["component"], *bom["components"]]
        if not component.get("licenses")
    ]

    assert sorted(sboms) == sorted([*(f"{s}.cdx.json" for s in SERVICES), "workspace.cdx.json"])
    assert not unlicensed


def test_the_workspace_sbom_holds_every_locked_package_and_excludes_what_no_image_ships(
    sboms: dict[str, dict[str, Any]],
) -> None:
    workspace = sboms["workspace.cdx.json"]
    scope = {canonical_name(c["name"]): c["scope"] for c in workspace["components"]}
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    locked = exported_requirements(ROOT, "--all-packages", "--all-groups")
    shipped = set().union(*(names(sboms[f"{service}.cdx.json"]) for service in SERVICES))

    assert set(scope) - FIRST_PARTY == {
        name for name, marker in locked.items() if not marker or applies(marker, python)
    }
    assert {name for name, kind in scope.items() if kind == "required"} == shipped
    assert {scope[tool] for tool in ("pytest", "ruff", "mypy", "pip-audit", "locust")} == {
        "excluded"
    }


def test_no_sbom_names_a_path_of_the_machine_it_was_made_on(
    sboms: dict[str, dict[str, Any]],
) -> None:
    for file, bom in sboms.items():
        text = json.dumps(bom)
        assert str(ROOT) not in text, file
        assert "file://" not in text, file
