"""The Toxiproxy proxies the stack routes its services through, declared once for both modes.

`deploy/compose/toxiproxy/proxies.json` is in Toxiproxy's own `-config` format and is the only
place a proxy's name, listen port and upstream are written. Compose mounts it as-is (listen on
`0.0.0.0:<port>`, upstream by container name, `postgres:5432`); the native stack runs its
localized copy (both sides on 127.0.0.1, see localconfig). Every service setting that names a
proxy, and the Kafka broker's proxied listeners, are derived from it here.

Kafka needs more than a TCP proxy: a client bootstraps through the proxy, then connects to the
address the broker *advertises*. So each Kafka proxy's upstream is a broker listener of its own
(named after the proxy, `USER_KAFKA` for `user-kafka`) that advertises the proxy's listen
address; every later connection of that client goes through the proxy too, and a toxic on it
cuts the client off for real.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from threadline_native.localconfig import localize
from threadline_native.paths import find_project_root

PROXIES_FILE = Path("deploy") / "compose" / "toxiproxy" / "proxies.json"
# The compose service name the services reach the proxies by (localized to 127.0.0.1).
TOXIPROXY_HOST = "toxiproxy"
KAFKA_HOST = "kafka"


@dataclass(frozen=True)
class Proxy:
    """One entry of proxies.json."""

    name: str
    listen: str
    upstream: str
    enabled: bool = True

    @property
    def listen_port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])

    @property
    def upstream_host(self) -> str:
        return self.upstream.rsplit(":", 1)[0]

    @property
    def upstream_port(self) -> int:
        return int(self.upstream.rsplit(":", 1)[1])

    @property
    def address(self) -> str:
        """Where a client reaches this proxy: `toxiproxy:<port>` (localize for native)."""
        return f"{TOXIPROXY_HOST}:{self.listen_port}"

    @property
    def kafka_listener_name(self) -> str:
        """The broker listener this proxy forwards to, when its upstream is Kafka."""
        return self.name.upper().replace("-", "_")


@dataclass(frozen=True)
class KafkaListener:
    """A broker listener reached only through a proxy, advertising that proxy's address."""

    name: str
    port: int
    advertised: str


def proxies_file(root: Path | None = None) -> Path:
    return (root or find_project_root(Path(__file__).parent)) / PROXIES_FILE


def parse_proxies(text: str) -> tuple[Proxy, ...]:
    """The proxies of a Toxiproxy config document; a malformed entry is a ValueError."""
    entries = json.loads(text)
    if not isinstance(entries, list):
        raise ValueError("a Toxiproxy config is a JSON list of proxies")
    proxies = []
    for entry in entries:
        try:
            proxy = Proxy(
                name=entry["name"],
                listen=entry["listen"],
                upstream=entry["upstream"],
                enabled=entry.get("enabled", True),
            )
            proxy.listen_port, proxy.upstream_port  # noqa: B018 - both must parse
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise ValueError(f"malformed proxy entry {entry!r}: {error}") from error
        proxies.append(proxy)
    names = [proxy.name for proxy in proxies]
    if len(set(names)) != len(names):
        raise ValueError(f"proxy names repeat: {names}")
    return tuple(proxies)


def declared_proxies(root: Path | None = None) -> tuple[Proxy, ...]:
    """The proxies as compose runs them (container names)."""
    return parse_proxies(proxies_file(root).read_text())


def native_config(root: Path | None = None) -> str:
    """The proxies file as the native Toxiproxy loads it: every address on loopback."""
    return localize(proxies_file(root).read_text())


def proxy(name: str, root: Path | None = None) -> Proxy:
    for candidate in declared_proxies(root):
        if candidate.name == name:
            return candidate
    raise KeyError(f"no proxy named {name!r} in {PROXIES_FILE}")


def native_address(name: str, root: Path | None = None) -> str:
    """`127.0.0.1:<listen port>` of a declared proxy: where a native service connects."""
    return localize(proxy(name, root).address)


def kafka_listeners(proxies: tuple[Proxy, ...]) -> tuple[KafkaListener, ...]:
    """One broker listener per Kafka proxy, advertised at the proxy (compose names)."""
    return tuple(
        KafkaListener(name=p.kafka_listener_name, port=p.upstream_port, advertised=p.address)
        for p in proxies
        if p.upstream_host == KAFKA_HOST
    )
