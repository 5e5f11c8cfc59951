"""The webhook receiver behind Alertmanager: a small stdlib Python server from deploy/compose."""

from __future__ import annotations

import sys
from typing import ClassVar

from threadline_native.component import Component
from threadline_native.httpprobe import http_ok
from threadline_native.process import Launch


class AlertRecorder(Component):
    name = "alert-recorder"
    port = 9098
    startup_timeout = 15.0
    script: ClassVar[str] = "alertmanager/recorder.py"

    @property
    def title(self) -> str:
        return "Alert webhook recorder"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/alerts"

    def healthy(self) -> bool:
        return http_ok(self.port, "/healthz")

    def prepare(self) -> None:
        self.layout.data_dir(self.name).mkdir(parents=True, exist_ok=True)

    def launch(self) -> Launch:
        return Launch(
            argv=[
                sys.executable,
                str(self.layout.compose_dir / self.script),
                "--port",
                str(self.port),
                "--file",
                str(self.layout.data_dir(self.name) / "alerts.jsonl"),
            ]
        )
