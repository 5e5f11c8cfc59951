"""`make sbom`: a CycloneDX SBOM per service image, and one of the whole locked workspace.

Each SBOM is read by `cyclonedx-py environment` from a throwaway virtual environment that uv
installs from uv.lock, so every component's licence comes from its installed metadata
(License-Expression, then trove classifiers). The gaps it leaves are filled here:

- first-party packages declare no licence of their own; they carry the repository's (root
  pyproject.toml), acknowledged as "concluded" rather than "declared";
- cyclonedx-py drops a free-text `License:` field that is not an SPDX id (protobuf's
  "3-Clause BSD License"); it is kept here as a licence name;
- a package that declares nothing but a PEP 639 licence file (promql-parser) gets that file
  attached, as `cyclonedx-py --gather-license-texts` would do for every package (making each
  SBOM several times larger).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import re
import shlex
import sys
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from threadline_native.paths import find_project_root
from threadline_native.supply_chain.documents import Bom, read_environment, schema_errors
from threadline_native.supply_chain.interpreters import image_interpreter, running_version
from threadline_native.supply_chain.licences import (
    Kind,
    installed_licence_classifiers,
    review,
)
from threadline_native.supply_chain.workspace import (
    ServiceImage,
    SupplyChainError,
    canonical_name,
    install,
    service_images,
    site_packages,
    workspace_licence,
    workspace_members,
)

WORKSPACE_SYNC_ARGS = ("--frozen", "--all-packages", "--all-groups", "--no-editable")
# A licence name longer than this is a licence text; it is not copied into the SBOM.
_LONGEST_LICENCE_NAME = 100
_SPDX_ID = re.compile(r"[A-Za-z0-9.+-]+")


def write_sboms(root: Path, out_dir: Path) -> dict[str, Bom]:
    """Write `<service>.cdx.json` per image and `workspace.cdx.json`; return them by file name."""
    members = {m.name: m.pyproject for m in workspace_members(root)}
    licence = workspace_licence(root)
    boms: dict[str, Bom] = {}
    with tempfile.TemporaryDirectory(prefix="threadline-sbom-") as scratch:
        shipped: dict[str, set[str]] = {}
        for image in service_images(root):
            bom = image_sbom(root, image, Path(scratch), members=members, licence=licence)
            shipped[image.service] = {canonical_name(c["name"]) for c in bom["components"]}
            boms[f"{image.service}.cdx.json"] = bom
        boms["workspace.cdx.json"] = workspace_sbom(
            root, Path(scratch), members=members, licence=licence, shipped=shipped
        )
    for name, bom in boms.items():
        if errors := schema_errors(bom):
            raise SupplyChainError(f"{name} breaks the CycloneDX schema:\n" + "\n".join(errors))
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, bom in boms.items():
        (out_dir / name).write_text(json.dumps(bom, indent=2) + "\n")
    return boms


def image_sbom(
    root: Path, image: ServiceImage, scratch: Path, *, members: Mapping[str, Path], licence: str
) -> Bom:
    """Everything the image's `uv sync` installs; all of it ships, so every scope is required."""
    venv = scratch / image.service
    interpreter = image_interpreter(root, image)
    python = install(root, sync_args=image.sync_args, python=interpreter.python, target=venv)
    bom = read_environment(python, pyproject=members[canonical_name(image.package)])
    complete_licences(bom, venv=venv, first_party=set(members), licence=licence)
    relative_local_sources(bom, root)
    for component in bom["components"]:
        component["scope"] = "required"
    _add_properties(
        bom["metadata"],
        ("threadline:dockerfile", image.dockerfile.relative_to(root).as_posix()),
        ("threadline:install", shlex.join(["uv", "sync", *image.sync_args])),
        ("threadline:python", image.python_version),
        *([("threadline:note", interpreter.stand_in_note)] if interpreter.stand_in_note else []),
    )
    return bom


def workspace_sbom(
    root: Path,
    scratch: Path,
    *,
    members: Mapping[str, Path],
    licence: str,
    shipped: Mapping[str, set[str]],
) -> Bom:
    """Every locked package; what no service image ships (dev tools, the test plugin, the load
    tests, the native stack's tooling) has scope "excluded", the rest names its images."""
    venv = scratch / "workspace"
    python = install(root, sync_args=WORKSPACE_SYNC_ARGS, python=sys.executable, target=venv)
    bom = read_environment(python, pyproject=root / "pyproject.toml")
    complete_licences(bom, venv=venv, first_party=set(members), licence=licence)
    relative_local_sources(bom, root)
    for component in bom["components"]:
        name = canonical_name(component["name"])
        images = sorted(service for service, names in shipped.items() if name in names)
        component["scope"] = "required" if images else "excluded"
        _add_properties(component, *(("threadline:image", service) for service in images))
    _add_properties(
        bom["metadata"],
        ("threadline:install", shlex.join(["uv", "sync", *WORKSPACE_SYNC_ARGS])),
        ("threadline:python", running_version()),
    )
    return bom


def complete_licences(bom: Bom, *, venv: Path, first_party: set[str], licence: str) -> None:
    """Give first-party components the repository's licence, others what cyclonedx-py left."""
    installed = {
        canonical_name(dist.metadata["Name"]): dist
        for dist in importlib.metadata.distributions(path=[str(site_packages(venv))])
    }
    for component in [bom["metadata"]["component"], *bom["components"]]:
        if component.get("licenses"):
            continue
        name = canonical_name(component["name"])
        if name in first_party:
            component["licenses"] = [_licence_entry(licence, acknowledgement="concluded")]
        elif name in installed and (entries := _declared_elsewhere(installed[name])):
            component["licenses"] = entries


def _declared_elsewhere(dist: importlib.metadata.Distribution) -> list[dict[str, Any]]:
    """A free-text `License:` as a name, else the PEP 639 licence files, attached."""
    if text := _licence_name(next(iter(dist.metadata.get_all("License") or []), None)):
        return [{"license": {"name": text, "acknowledgement": "declared"}}]
    entries = []
    for file in dist.metadata.get_all("License-File") or []:
        if content := dist.read_text(f"licenses/{file}") or dist.read_text(file):
            licence = {
                "name": f"declared license file: {file}",
                "acknowledgement": "declared",
                "text": {"content": content, "contentType": "text/plain"},
            }
            entries.append({"license": licence})
    return entries


def relative_local_sources(bom: Bom, root: Path) -> None:
    """Workspace packages were installed from this checkout: name them by their path in it."""
    checkout = root.resolve().as_uri() + "/"
    for component in bom["components"]:
        for reference in component.get("externalReferences", []):
            if reference["url"].startswith(checkout):
                reference["url"] = reference["url"].removeprefix(checkout)


def _licence_entry(expression: str, *, acknowledgement: str) -> dict[str, Any]:
    if _SPDX_ID.fullmatch(expression):
        return {"license": {"id": expression, "acknowledgement": acknowledgement}}
    return {"expression": expression, "acknowledgement": acknowledgement}


def _licence_name(text: str | None) -> str | None:
    text = (text or "").strip()
    return text if text and "\n" not in text and len(text) <= _LONGEST_LICENCE_NAME else None


def _add_properties(target: dict[str, Any], *properties: tuple[str, str]) -> None:
    if properties:
        target.setdefault("properties", []).extend(
            {"name": name, "value": value} for name, value in properties
        )


def summary(name: str, bom: Bom) -> list[str]:
    """What `make sbom` prints for one SBOM: counts, licences, anything to look at."""
    shipped = review(bom, classifiers_for=installed_licence_classifiers)
    unshipped = review(bom, classifiers_for=installed_licence_classifiers, excluded=True)
    lines = [
        f"{name}: {len(shipped) + len(unshipped)} components"
        + (
            f" ({len(shipped)} in an image, {len(unshipped)} in none: scope excluded)"
            if unshipped
            else ""
        )
    ]
    tally = Counter(text for finding in shipped for text in finding.licences)
    lines.append("  licences: " + ", ".join(f"{text} ({n})" for text, n in tally.most_common()))
    for kind in (Kind.WEAK_COPYLEFT, Kind.STRONG_COPYLEFT, Kind.UNKNOWN):
        found = [finding for finding in shipped if finding.kind is kind]
        lines.append(f"  {kind.label}: " + ("; ".join(map(str, found)) if found else "none"))
    if noted := [finding for finding in unshipped if finding.kind is not Kind.NOT_COPYLEFT]:
        lines.append("  in no image (not reviewed): " + "; ".join(map(str, noted)))
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sbom", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="directory to write to (reports/sbom)")
    args = parser.parse_args(argv)
    root = find_project_root().resolve()
    out_dir = args.out or root / "reports" / "sbom"
    try:
        boms = write_sboms(root, out_dir)
    except SupplyChainError as error:
        print(f"sbom: {error}", file=sys.stderr)
        return 1
    for name, bom in boms.items():
        shown = out_dir / name
        print("\n".join(summary(str(_relative(shown, root)), bom)))
    return 0


def _relative(path: Path, root: Path) -> Path:
    resolved = path.resolve()
    return resolved.relative_to(root) if resolved.is_relative_to(root) else path


if __name__ == "__main__":
    raise SystemExit(main())
