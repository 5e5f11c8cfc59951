"""The three operations behind the make targets, each all-or-nothing."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from threadline_native.scaffold import registrations, render
from threadline_native.scaffold.registry import load_registry
from threadline_native.scaffold.spec import ServiceSpec, SpecError, check_kind, make_spec
from threadline_native.scaffold.transaction import FileTransaction

ANSWERS_FILE = ".copier-answers.yml"


def _finish(tx: FileTransaction, spec: ServiceSpec) -> list[str]:
    """Registration, code tidied, contracts and lock: what new-service and copier's task do."""
    registered = registrations.register(tx, spec)
    render.tidy(tx, spec)
    render.generate_contracts(tx, spec)
    render.lock(tx)
    return registered


def new_service(
    root: Path, *, name: str, kind: str, port: int | None = None, admin_port: int | None = None
) -> tuple[ServiceSpec, list[str]]:
    """Render templates/service for a new service, move it in and register it everywhere."""
    spec = make_spec(
        root, load_registry(root), name=name, kind=kind, port=port, admin_port=admin_port
    )
    with tempfile.TemporaryDirectory(prefix="threadline-service-") as scratch:
        files = render.render(root, spec, Path(scratch))
        with FileTransaction(root) as tx:
            render.move_in(tx, spec, Path(scratch), files)
            registered = _finish(tx, spec)
    return spec, registered


def spec_from_answers(root: Path, name: str) -> ServiceSpec:
    path = root / "services" / name / ANSWERS_FILE
    if not path.is_file():
        raise SpecError(f"services/{name} was not made from the template (no {ANSWERS_FILE})")
    recorded = yaml.safe_load(path.read_text())
    return ServiceSpec(
        name, check_kind(recorded["kind"]), int(recorded["port"]), int(recorded["admin_port"])
    )


def register_rendered(root: Path, name: str) -> tuple[ServiceSpec, list[str]]:
    """After a plain `copier copy`: register the service copier wrote (copier's task)."""
    recorded = spec_from_answers(root, name)
    # The checks of a new service (name, ports), the rendered directory not counted as a clash.
    spec = make_spec(
        root,
        load_registry(root),
        name=name,
        kind=recorded.kind,
        port=recorded.port,
        admin_port=recorded.admin_port,
        rendered=True,
    )
    with FileTransaction(root) as tx:
        return spec, _finish(tx, spec)


def remove_service(root: Path, *, name: str) -> ServiceSpec:
    """Undo new-service: its files, its registrations, its contracts, its lock entry."""
    if name in ("user", "order") or name not in load_registry(root).services:
        raise SpecError(f"{name!r} is not a service made by make new-service")
    spec = spec_from_answers(root, name)
    outside = [f for f in render.rendered_files(root, spec) if f.parts[:2] != ("services", name)]
    with FileTransaction(root) as tx:
        registrations.unregister(tx, spec)
        for relative in outside:
            tx.touch(relative).unlink(missing_ok=True)
        tx.remove_dir(render.contracts_dir(spec))
        tx.remove_dir(spec.directory)
        render.lock(tx)
    return spec
