"""VictoriaLogs (Apache-2.0), the native log store: built from its Go module, flags only.

The collector sends it every service's OTLP logs over HTTP (protobuf) at
/insert/opentelemetry/v1/logs; each record keeps `trace_id`, `span_id` and the resource's
`service.name` as fields a LogsQL query filters on (`trace_id:=<32 hex>`). Its web UI is embedded
in the module build and served at /select/vmui/.
"""

from __future__ import annotations

from threadline_native.components.goserver import GoServer
from threadline_native.gobuild import GoBuild
from threadline_native.process import Launch

# A development stack: a week of logs at most, and never more than 1 GiB of disk.
RETENTION = "7d"
MAX_DISK_BYTES = "1GiB"
OTLP_LOGS_PATH = "/insert/opentelemetry/v1/logs"
UI_PATH = "/select/vmui/"


class VictoriaLogs(GoServer):
    name = "victorialogs"
    port = 9428
    ready_path = "/health"

    @property
    def title(self) -> str:
        return f"VictoriaLogs {self.context.version('VICTORIALOGS_VERSION')}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port} (UI {UI_PATH})"

    @property
    def go_build(self) -> GoBuild:
        version = self.context.version("VICTORIALOGS_VERSION")
        return GoBuild(
            name="victorialogs",
            module="github.com/VictoriaMetrics/VictoriaLogs",
            version=f"v{version}",
            binaries={"victoria-logs": "./app/victoria-logs"},
            version_vars={
                "github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version": (
                    f"victoria-logs-v{version}"
                )
            },
        )

    def launch(self) -> Launch:
        return Launch(
            argv=[
                str(self.binary()),
                f"-storageDataPath={self.work_dir / 'data'}",
                f"-httpListenAddr=127.0.0.1:{self.port}",
                f"-retentionPeriod={RETENTION}",
                f"-retention.maxDiskSpaceUsageBytes={MAX_DISK_BYTES}",
                "-loggerLevel=WARN",
            ],
        )
