"""Apache Kafka in KRaft mode from the jars on Maven Central, run with plain `java`."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from threadline_native.component import Component, StackError
from threadline_native.components.kafka_cluster_id import new_cluster_id
from threadline_native.localconfig import localize
from threadline_native.net import kafka_api_versions
from threadline_native.process import Launch
from threadline_native.proxies import KafkaListener, declared_proxies, kafka_listeners

CONTROLLER_PORT = 9094
# Bounded heap: a single-node development broker needs little, and the machine is shared.
HEAP_OPTS = ["-Xms256m", "-Xmx512m"]

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.threadline</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_{scala}</artifactId>
      <version>{kafka}</version>
    </dependency>
    <dependency>
      <!-- Kafka logs through slf4j; the bare jars bring no binding, so log4j2 is added. -->
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version>
    </dependency>
  </dependencies>
</project>
"""


# The listeners Kafka's clients in the stack reach through Toxiproxy (see proxies.py).
PROXIED_LISTENERS = kafka_listeners(declared_proxies())


def with_proxied_listeners(properties: str, listeners: tuple[KafkaListener, ...]) -> str:
    """server.properties plus each proxied listener, bound on loopback, advertised at its proxy."""
    bound = ",".join(f"{item.name}://127.0.0.1:{item.port}" for item in listeners)
    advertised = ",".join(f"{item.name}://{localize(item.advertised)}" for item in listeners)
    return _extend(_extend(properties, "listeners", bound), "advertised.listeners", advertised)


def _extend(properties: str, key: str, extra: str) -> str:
    """Append `extra` to the comma-separated value of `key=`."""
    pattern = re.compile(rf"^{re.escape(key)}=.*$", re.MULTILINE)
    if not pattern.search(properties):
        raise StackError(f"kafka/server.properties has no {key}= line to extend")
    return pattern.sub(lambda match: f"{match.group(0)},{extra}", properties, count=1)


class Kafka(Component):
    name = "kafka"
    port = 9092
    extra_ports = (CONTROLLER_PORT, *(listener.port for listener in PROXIED_LISTENERS))
    startup_timeout = 90.0

    @property
    def version(self) -> str:
        return self.context.version("KAFKA_VERSION")

    @property
    def title(self) -> str:
        return f"Kafka {self.version} (KRaft)"

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def dist_dir(self) -> Path:
        scala = self.context.version("KAFKA_SCALA_VERSION")
        return self.layout.cache_dir / f"kafka_{scala}-{self.version}"

    @property
    def work_dir(self) -> Path:
        return self.layout.data_dir(self.name)

    def healthy(self) -> bool:
        return kafka_api_versions(self.port)

    def after_start(self) -> None:
        # A broker started before the proxied listeners existed (or by someone else) answers on
        # 9092 but not behind the proxies: the services' Kafka clients would fail later, unclearly.
        missing = [item for item in PROXIED_LISTENERS if not kafka_api_versions(item.port)]
        if missing:
            names = ", ".join(f"{item.name} :{item.port}" for item in missing)
            raise StackError(
                f"the Kafka broker on :{self.port} has no listener {names} for the Toxiproxy "
                "proxies; restart it with this checkout's config (`make down && make up`)"
            )

    def _java(self) -> str:
        java = shutil.which("java")
        if java is None:
            raise StackError("java is not installed; run `make setup`")
        return java

    def _classpath(self) -> str:
        return str(self.dist_dir / "libs" / "*")

    def fetch(self) -> None:
        """Download the broker's jars once with Maven; later runs find them in the cache."""
        complete = self.dist_dir / ".complete"
        if complete.exists():
            return
        mvn = shutil.which("mvn")
        if mvn is None:
            raise StackError("mvn is not installed; run `make setup`")
        self.dist_dir.mkdir(parents=True, exist_ok=True)
        (self.dist_dir / "pom.xml").write_text(
            _POM.format(
                scala=self.context.version("KAFKA_SCALA_VERSION"),
                kafka=self.version,
                log4j=self.context.version("KAFKA_LOG4J_VERSION"),
            )
        )
        print(f"fetching {self.title} jars from Maven Central (once)...", flush=True)
        result = subprocess.run(
            [
                mvn,
                "-q",
                "-B",
                "-f",
                str(self.dist_dir / "pom.xml"),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={self.dist_dir / 'libs'}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"fetching Kafka with Maven failed:\n{result.stdout[-3000:]}")
        complete.touch()

    def server_properties(self) -> Path:
        """The compose file's settings plus what differs for a local process."""
        shared = (self.layout.compose_dir / "kafka" / "server.properties").read_text()
        local = self.work_dir / "server.properties"
        local.write_text(
            with_proxied_listeners(shared, PROXIED_LISTENERS)
            + "\n# Native overrides (written by threadline_native; do not edit)\n"
            + f"log.dirs={self.work_dir / 'data'}\n"
        )
        return local

    def prepare(self) -> None:
        self.fetch()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        properties = self.server_properties()
        if (self.work_dir / "data" / "meta.properties").exists():
            return
        result = subprocess.run(
            [
                self._java(),
                "-cp",
                self._classpath(),
                *self._log_opts(),
                "kafka.tools.StorageTool",
                "format",
                "-t",
                new_cluster_id(),
                "-c",
                str(properties),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}")

    def _log_opts(self) -> list[str]:
        config = self.layout.compose_dir / "kafka" / "log4j2.yaml"
        return [f"-Dlog4j2.configurationFile={config}"]

    def launch(self) -> Launch:
        return Launch(
            argv=[
                self._java(),
                *HEAP_OPTS,
                "-XX:+UseG1GC",
                "-Djava.awt.headless=true",
                *self._log_opts(),
                "-cp",
                self._classpath(),
                "kafka.Kafka",
                str(self.work_dir / "server.properties"),
            ],
        )
