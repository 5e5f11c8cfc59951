"""new-service refuses bad input with one line before writing anything, a failure half-way
leaves the tree exactly as it was, and the longest name it accepts still gives code the lint
accepts (checked on a small copy of the files it touches)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from threadline_native.paths import find_project_root
from threadline_native.scaffold import operations, render
from threadline_native.scaffold.registrations import REGISTRATIONS
from threadline_native.scaffold.registry import load_registry
from threadline_native.scaffold.spec import (
    FIRST_ADMIN_PORT,
    FIRST_PORTS,
    MAX_NAME_LENGTH,
    SpecError,
    bound,
    make_spec,
)

# Not "payment": a fork may already have it (the README's example), and these tests must pass in
# a tree with services generated into it.
NAME = "scaffoldprobe"

# What new-service reads or edits, copied so the test never touches the real tree.
TOUCHED = (
    "deploy/services.yaml",
    "templates/service",
    "libs/contracts/generate.py",
    *(str(r.path) for r in REGISTRATIONS),
    # The kustomizations threadline_native.scaffold.k8s appends to.
    "deploy/k8s/base/kustomization.yaml",
    "deploy/k8s/overlays",
    "deploy/compose/kustomization.yaml",
)


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = find_project_root()
    for name in TOUCHED:
        source, target = root / name, tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    (tmp_path / "services" / "user").mkdir(parents=True)
    (tmp_path / "uv.lock").write_text("lock\n")
    return tmp_path


@pytest.fixture
def held_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"name": "Payment", "kind": "http"}, "invalid service name 'Payment'"),
        ({"name": "pay-ment", "kind": "http"}, "invalid service name"),
        ({"name": "9lives", "kind": "http"}, "invalid service name"),
        ({"name": "a" * (MAX_NAME_LENGTH + 1), "kind": "http"}, "at most 20 characters"),
        ({"name": "class", "kind": "http"}, "reserved word"),
        ({"name": "order", "kind": "grpc"}, "reserved word"),
        ({"name": "test", "kind": "grpc"}, "reserved word"),
        ({"name": "lib", "kind": "grpc"}, "reserved word"),
        ({"name": NAME, "kind": "soap"}, "unknown kind 'soap'"),
        ({"name": NAME, "kind": "http", "port": 8000}, "port 8000 clashes"),
        ({"name": NAME, "kind": "http", "admin_port": 9103}, "admin port 9103 clashes"),
        ({"name": NAME, "kind": "http", "port": 5432}, "port 5432 clashes"),
        ({"name": NAME, "kind": "http", "port": 26000}, "clashes"),
        ({"name": NAME, "kind": "http", "port": 80}, "outside 1024-65535"),
    ],
)
def test_bad_input_is_one_line_and_nothing_is_written(
    tree: Path, arguments: dict[str, object], message: str
) -> None:
    before = snapshot(tree)
    with pytest.raises(SpecError) as refused:
        operations.new_service(tree, **arguments)  # type: ignore[arg-type]
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)
    assert snapshot(tree) == before


def test_a_port_in_use_on_the_machine_is_refused(tree: Path, held_port: int) -> None:
    with pytest.raises(SpecError, match=f"port {held_port} is in use"):
        make_spec(tree, load_registry(tree), name=NAME, kind="http", port=held_port)


def test_an_existing_service_is_refused(tree: Path) -> None:
    (tree / "services" / NAME).mkdir()
    with pytest.raises(SpecError, match="exists already"):
        operations.new_service(tree, name=NAME, kind="http")


def test_free_ports_are_the_first_untaken_from_each_kinds_start(tree: Path) -> None:
    registry = load_registry(tree)
    spec = make_spec(tree, registry, name=NAME, kind="grpc")
    taken = set(registry.ports())
    assert {spec.port, spec.admin_port}.isdisjoint(taken)
    # Every port skipped on the way was taken (by the registry or, rarely, by the machine).
    skipped = [*range(FIRST_PORTS["grpc"], spec.port), *range(FIRST_ADMIN_PORT, spec.admin_port)]
    assert all(port in taken or bound(port) for port in skipped)


def test_a_failure_half_way_leaves_the_tree_as_it_was(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(tree)

    def lock_fails(*_: object) -> None:
        raise RuntimeError("uv lock failed (injected)")

    # The last step, after the files were moved in and every registration was made.
    monkeypatch.setattr(render, "lock", lock_fails)
    monkeypatch.setattr(render, "generate_contracts", lambda *_: None)
    with pytest.raises(RuntimeError, match="injected"):
        operations.new_service(tree, name=NAME, kind="http")
    assert snapshot(tree) == before
    assert not (tree / "services" / NAME).exists()


@pytest.mark.parametrize("kind", ["http", "grpc"])
def test_the_longest_name_allowed_gives_code_the_lint_accepts(
    tree: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Starting with "a", the package sorts before every other first-party import, and at the
    # longest name the template's lines are at their longest.
    name = "a" + "b" * (MAX_NAME_LENGTH - 1)
    monkeypatch.setattr(render, "lock", lambda *_: None)
    monkeypatch.setattr(render, "generate_contracts", lambda *_: None)
    operations.new_service(tree, name=name, kind=kind)

    for check in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
        linted = subprocess.run(
            [sys.executable, "-m", "ruff", *check, f"services/{name}"],
            cwd=tree,
            capture_output=True,
            text=True,
            check=False,
        )
        assert linted.returncode == 0, linted.stdout[-3000:] + linted.stderr


def test_copiers_validator_holds_the_same_name_length_bound() -> None:
    # copier's YAML cannot import the constant: the two are held equal here.
    copier_yml = (find_project_root() / "templates/service/copier.yml").read_text()
    assert f"name | length > {MAX_NAME_LENGTH} %}}" in copier_yml
    assert f"at most {MAX_NAME_LENGTH} characters" in copier_yml
