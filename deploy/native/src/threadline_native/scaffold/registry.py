"""deploy/services.yaml: every service's kind and ports, the one place they are recorded."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

REGISTRY_FILE = Path("deploy") / "services.yaml"


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str
    port: int
    admin_port: int


@dataclass(frozen=True)
class Registry:
    services: dict[str, Entry]
    reserved: tuple[int, ...]

    def ports(self) -> Iterator[int]:
        yield from self.reserved
        for entry in self.services.values():
            yield entry.port
            yield entry.admin_port

    def generated(self) -> list[Entry]:
        """The services made from the template (all but the two the project ships with)."""
        return [e for name, e in self.services.items() if name not in ("user", "order")]


def load_registry(root: Path) -> Registry:
    data = yaml.safe_load((root / REGISTRY_FILE).read_text()) or {}
    services = {
        name: Entry(name, str(v["kind"]), int(v["port"]), int(v["admin_port"]))
        for name, v in (data.get("services") or {}).items()
    }
    return Registry(services, tuple(int(p) for p in data.get("reserved") or ()))
