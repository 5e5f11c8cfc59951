"""Observability for Threadline services: one call, and every signal joins on ``trace_id``.

``setup(settings)`` gives a process a `Telemetry` handle holding:

* **traces** — OpenTelemetry SDK, resource (``service.name``, ``service.version``,
  ``deployment.environment.name``, ``service.instance.id``), OTLP/gRPC exporter in batches,
  sampler ``ParentBased(TraceIdRatio)`` (``OTEL_TRACES_SAMPLER_ARG``, default 0.1);
* **logs** — JSON lines on stdout (``timestamp level service logger message trace_id span_id``
  and the record's ``extra=`` fields), the same records exported as OTLP logs, and secrets
  redacted from both (`observability.redaction`);
* **metrics** — ``telemetry.metrics``: prometheus-client families for HTTP/gRPC RED (server and
  client), cache, DB pool, Kafka and business counters, with ``trace_id`` exemplars;
* **health** — ``telemetry.health``: checks behind /healthz, /readyz and /startupz;
* **lifecycle** — ``telemetry.lifecycle``: SIGTERM -> not ready -> drain -> flush -> exit 0;
* **admin** — ``telemetry.admin``: the HTTP server for /metrics and the probes, and /admin:
  fault flags (``telemetry.faults``, `observability.faults`) and runtime controls of the log
  level and the sampling ratio (``telemetry.runtime``, `observability.runtime_controls`; also
  on SIGHUP).

Integrations, one module each: `observability.fastapi` (ASGI middleware and ``serve``),
`observability.grpc` (grpc.aio interceptors and health), `observability.httpx`,
`observability.kafka`, `observability.sqlalchemy`, `observability.redis`.

A complete service (the README's example; ``tests/unit/test_obs_readme.py`` runs it as shown)::

    import asyncio
    import logging
    from typing import ClassVar

    from fastapi import FastAPI

    from observability import ObservabilitySettings, setup
    from observability.fastapi import instrument_app, serve

    log = logging.getLogger("hello")


    class Settings(ObservabilitySettings):
        default_service_name: ClassVar[str] = "hello"
        http_port: int = 8000  # OBS_HTTP_PORT; the admin server listens on OBS_ADMIN_PORT (9100)


    async def main() -> None:
        settings = Settings()
        telemetry = setup(settings)
        app = FastAPI()

        @app.get("/hello/{name}")
        async def hello(name: str) -> dict[str, str]:
            log.info("greeting", extra={"who": name, "password": "never printed"})
            return {"hello": name}

        instrument_app(app, telemetry)
        await serve(app, telemetry, port=settings.http_port)


    if __name__ == "__main__":
        asyncio.run(main())

Then ``curl localhost:8000/hello/ada`` logs a JSON line whose ``trace_id`` is the request
span's, ``curl -H 'Accept: application/openmetrics-text' localhost:9100/metrics`` shows
``http_server_request_duration_seconds`` with that ``trace_id`` as an exemplar (when sampled),
and ``kill -TERM`` turns ``/readyz`` to 503, drains, flushes and exits 0.

A grpc.aio service uses the same handle::

    telemetry = setup(settings)
    server = grpc.aio.server(interceptors=server_interceptors(telemetry))
    add_health_servicer(server, telemetry, services=["order.v1.OrderService"])
    server.add_insecure_port("[::]:50051")
    await server.start()
    telemetry.lifecycle.on_drain("grpc", lambda left: server.stop(left))
    telemetry.mark_started()
    await telemetry.run_until_shutdown()

Tests build an isolated handle with ``observability.testing.isolated_telemetry()`` (an
in-memory span exporter, a private registry, no globals touched), or run a service as a process
and point ``OTEL_EXPORTER_OTLP_ENDPOINT`` at ``observability.testing.OtlpSink``.

Why the HTTP middleware, the gRPC interceptor and the span encoder are our own rather than the
contrib/stock ones is measured in docs/benchmarks/observability.md (``make bench-observability``).
"""

from __future__ import annotations

from observability.health import HealthRegistry
from observability.lifecycle import ShutdownCoordinator
from observability.metrics import Metrics, current_exemplar
from observability.settings import ObservabilitySettings
from observability.telemetry import Telemetry, setup

__all__ = [
    "HealthRegistry",
    "Metrics",
    "ObservabilitySettings",
    "ShutdownCoordinator",
    "Telemetry",
    "current_exemplar",
    "setup",
]
