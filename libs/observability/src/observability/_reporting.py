"""`HealthReportingExporter`: an OTLP/gRPC exporter that tells its `ExportHealth` how it fares."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from observability.export_health import ExportHealth

__all__ = ["HealthReportingExporter"]


class HealthReportingExporter:
    """Mixed into an OTLP/gRPC exporter, before it in the bases: failed RPCs note their status.

    The exporter catches every `grpc.RpcError` itself (it retries, then gives up with a log
    line `observability.export_health` filters out), so the status is read on the way through
    the stub. The exporter's ``export`` reports each batch's outcome to `health`.
    """

    health: ExportHealth

    def _initialize_channel_and_stub(self) -> None:
        # Called by the exporter's constructor and again whenever it reconnects.
        super()._initialize_channel_and_stub()  # type: ignore[misc]
        exporter: Any = self  # the stub attribute belongs to the exporter this is mixed into
        exporter._client = _StatusNotingStub(exporter._client, self._note_status)

    def _note_status(self, status: str) -> None:
        # The constructor's first channel is built before `health` is assigned; no RPC is made.
        health = getattr(self, "health", None)
        if health is not None:
            health.rpc_failed(status)


class _StatusNotingStub:
    """An OTLP service stub whose ``Export`` hands a failed call's status name to ``note``."""

    def __init__(self, stub: Any, note: Callable[[str], None]) -> None:
        self._stub = stub
        self._note = note

    def Export(self, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 - the stub's own name
        try:
            return self._stub.Export(*args, **kwargs)
        except grpc.RpcError as error:
            code = error.code() if isinstance(error, grpc.Call) else None
            self._note(code.name if code is not None else "UNKNOWN")
            raise
