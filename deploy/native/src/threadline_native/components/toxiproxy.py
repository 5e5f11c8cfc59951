"""Toxiproxy, built from its Go module, with the stack's proxies from deploy/compose/toxiproxy.

The services reach PostgreSQL, Redis, Kafka and (order) the user service through these proxies,
pass-through until a chaos drill adds a toxic. The proxies exist as soon as the component reports
healthy: `-config` creates them at start, and `after_start` posts the same file to /populate, so
a Toxiproxy that was already running gets them too (populate keeps an identical proxy as it is,
toxics and all, so a `make up` during a drill does not undo the drill's fault).
"""

from __future__ import annotations

from typing import Any

from threadline_native.component import StackError
from threadline_native.components.goserver import GoServer
from threadline_native.gobuild import GoBuild
from threadline_native.process import Launch
from threadline_native.proxies import declared_proxies, native_config
from threadline_native.toxiproxy_api import ToxiproxyApi, ToxiproxyError


class Toxiproxy(GoServer):
    name = "toxiproxy"
    port = 8474
    extra_ports = tuple(proxy.listen_port for proxy in declared_proxies())
    ready_path = "/version"
    startup_timeout = 20.0

    @property
    def title(self) -> str:
        return f"Toxiproxy {self.context.version('TOXIPROXY_VERSION')}"

    @property
    def go_build(self) -> GoBuild:
        version = self.context.version("TOXIPROXY_VERSION")
        return GoBuild(
            name="toxiproxy",
            module="github.com/Shopify/toxiproxy/v2",
            version=f"v{version}",
            binaries={"toxiproxy-server": "./cmd/server", "toxiproxy-cli": "./cmd/cli"},
            version_vars={"github.com/Shopify/toxiproxy/v2.Version": version},
        )

    def write_config(self) -> None:
        (self.work_dir / "proxies.json").write_text(native_config(self.layout.root))

    def launch(self) -> Launch:
        return Launch(
            argv=[
                str(self.binary("toxiproxy-server")),
                "-host",
                "127.0.0.1",
                "-port",
                str(self.port),
                "-config",
                str(self.work_dir / "proxies.json"),
            ]
        )

    def after_start(self) -> None:
        try:
            created = ToxiproxyApi(self.url).populate(native_config(self.layout.root))
        except ToxiproxyError as error:
            raise StackError(f"{self.title} refused the stack's proxies: {error}") from error
        names = {proxy["name"] for proxy in created}
        if missing := {proxy.name for proxy in declared_proxies(self.layout.root)} - names:
            raise StackError(f"{self.title} did not create the proxies {sorted(missing)}")

    def status_lines(self) -> list[str]:
        """One line per proxy: name, listen, upstream, enabled, toxics."""
        try:
            proxies = ToxiproxyApi(self.url).proxies()
        except ToxiproxyError as error:
            return [f"proxies unreadable: {error}"]
        rows = [("PROXY", "LISTEN", "UPSTREAM", "ENABLED", "TOXICS")]
        for name, proxy in sorted(proxies.items()):
            toxics = ", ".join(_describe_toxic(toxic) for toxic in proxy.get("toxics", []))
            enabled = "yes" if proxy["enabled"] else "NO"
            rows.append(
                (name, str(proxy["listen"]), str(proxy["upstream"]), enabled, toxics or "-")
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        return [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows
        ]


def _describe_toxic(toxic: dict[str, Any]) -> str:
    attributes = ",".join(f"{key}={value}" for key, value in toxic.get("attributes", {}).items())
    return f"{toxic.get('type')}/{toxic.get('stream')}({attributes})"
