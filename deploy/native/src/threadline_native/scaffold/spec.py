"""What a new service is called, what edge it has and where it listens: checked before writing."""

from __future__ import annotations

import keyword
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from threadline_native.scaffold.registry import Registry

Kind = Literal["http", "grpc"]
KINDS: Final = ("http", "grpc")
_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
# The name is in package, image, Kubernetes and metric names, and the template's lines are
# written to stay within the line length for a name this long.
MAX_NAME_LENGTH: Final = 20
# Names that would shadow a package, directory, proto package or command of the project.
RESERVED: Final = frozenset(
    {
        "user",
        "order",
        "events",
        "test",
        "tests",
        "lib",
        "libs",
        "service",
        "services",
        "deploy",
        "native",
        "contracts",
        "observability",
        "testing",
        "chaos",
        "loadtests",
        "stack",
        "proto",
        "templates",
        "docs",
        "google",
        "grpc",
        "k8s",
        "admin",
        "relay",
        "consumer",
    }
)
# Ports of the stack's components (DESIGN §7 and the backends' internal ones) and Toxiproxy's
# listeners (25000-29999): a service never gets one.
STACK_PORTS: Final = frozenset(
    {
        3000,
        3100,
        3200,
        4317,
        4318,
        5432,
        6379,
        8089,
        8474,
        8888,
        9090,
        9093,
        9094,
        9095,
        9092,
        9098,
        9428,
        13133,
        13134,
        16686,
    }
)
TOXIPROXY_RANGE: Final = range(25000, 30000)
FIRST_PORTS: Final = {"http": 8001, "grpc": 50052}
FIRST_ADMIN_PORT: Final = 9111


class SpecError(ValueError):
    """Bad input: the one-line message says what and why."""


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    kind: Kind
    port: int
    admin_port: int

    @property
    def package(self) -> str:
        return f"{self.name}_service"

    @property
    def distribution(self) -> str:
        return f"{self.name.replace('_', '-')}-service"

    @property
    def directory(self) -> str:
        return f"services/{self.name}"


def check_name(name: str, root: Path, registry: Registry, *, rendered: bool = False) -> str:
    if not _NAME.fullmatch(name):
        raise SpecError(
            f"invalid service name {name!r}: use lower-case letters, digits and single "
            "underscores, starting with a letter (a Python identifier such as payment)"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise SpecError(
            f"invalid service name {name!r}: at most {MAX_NAME_LENGTH} characters "
            f"(it has {len(name)})"
        )
    if keyword.iskeyword(name) or name in RESERVED:
        raise SpecError(f"invalid service name {name!r}: it is a reserved word here")
    # After a plain `copier copy` the directory is the service just rendered, not a clash.
    if name in registry.services or (not rendered and (root / "services" / name).exists()):
        raise SpecError(f"service {name!r} exists already (services/{name})")
    return name


def check_kind(kind: str) -> Kind:
    if kind == "http":
        return "http"
    if kind == "grpc":
        return "grpc"
    raise SpecError(f"unknown kind {kind!r}: use http or grpc")


def bound(port: int) -> bool:
    """True when something listens on (or holds) the loopback port right now."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _taken(registry: Registry) -> set[int]:
    return {*STACK_PORTS, *registry.ports()}


def check_port(port: int, what: str, taken: set[int]) -> int:
    if not 1024 <= port <= 65535:
        raise SpecError(f"{what} {port} is outside 1024-65535")
    if port in taken or port in TOXIPROXY_RANGE:
        raise SpecError(f"{what} {port} clashes with a port the stack or a service uses")
    if bound(port):
        raise SpecError(f"{what} {port} is in use on this machine")
    return port


def _first_free(start: int, taken: set[int]) -> int:
    port = start
    while port in taken or port in TOXIPROXY_RANGE or bound(port):
        port += 1
    return port


def make_spec(
    root: Path,
    registry: Registry,
    *,
    name: str,
    kind: str,
    port: int | None = None,
    admin_port: int | None = None,
    rendered: bool = False,
) -> ServiceSpec:
    """The checked spec; free ports are chosen for what is not given. Raises `SpecError`."""
    checked_name = check_name(name, root, registry, rendered=rendered)
    checked_kind = check_kind(kind)
    taken = _taken(registry)
    api = (
        _first_free(FIRST_PORTS[checked_kind], taken)
        if port is None
        else check_port(port, "port", taken)
    )
    taken.add(api)
    admin = (
        _first_free(FIRST_ADMIN_PORT, taken)
        if admin_port is None
        else check_port(admin_port, "admin port", taken)
    )
    return ServiceSpec(checked_name, checked_kind, api, admin)
