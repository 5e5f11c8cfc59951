"""FastAPI/Starlette integration: `instrument_app` for tracing + RED, `serve` for uvicorn.

``instrument_app`` puts the pure-ASGI `ObservabilityMiddleware` around the app's whole
middleware stack; ``serve`` runs uvicorn under the process's `ShutdownCoordinator` (uvicorn's
own signal handling is switched off so that readiness turns false *before* the listener
closes), with the admin server beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import uvicorn

from observability.access_policy import AccessLogMode, access_policy_of
from observability.asgi import DEFAULT_EXCLUDED_PATHS, ObservabilityMiddleware
from observability.faults_asgi import FaultInjectionMiddleware

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.types import ASGIApp

    from observability.telemetry import Telemetry

__all__ = ["instrument_app", "serve"]


def instrument_app(
    app: Starlette,
    telemetry: Telemetry,
    *,
    excluded_paths: Iterable[str] = DEFAULT_EXCLUDED_PATHS,
    access_log: AccessLogMode | bool | None = None,
) -> None:
    """Trace every request as a SERVER span and record ``http_server_request_duration_seconds``.

    Health and metrics paths are excluded by default. ``access_log`` (settings' default:
    ``OBS_ACCESS_LOG``, ``sampled``) chooses the requests that also write one
    ``observability.access`` log line (`observability.access_policy`): by default each sampled
    request, each 5xx and each request slower than ``latency_objective_seconds``, so every
    stored trace and every failure has the service's log line beside it. Call before the app
    starts serving.

    The middleware wraps the whole stack Starlette builds, outside its
    ``ServerErrorMiddleware`` (which Starlette always puts outermost, and which runs the app's
    handler for ``Exception``/500): that handler and its log line run inside the request's
    span, and the exception it re-raises after the 500 reaches the middleware, not the server.

    FastAPI's own OpenTelemetry support, which switches itself on once a global tracer provider
    exists, is turned off for this app: it would add a second SERVER span and four operation
    spans per request at about three times the cost (docs/benchmarks/observability.md).

    Inside it, `FaultInjectionMiddleware` applies the process's fault flags
    (``telemetry.faults``) to the app's routes; with no flag set it costs one truth test.
    """
    if app.middleware_stack is not None:
        raise RuntimeError("instrument_app must be called before the app starts serving")
    _disable_native_telemetry(app)
    policy = access_policy_of(telemetry.settings, access_log)
    build_stack = app.build_middleware_stack
    excluded = frozenset(excluded_paths)

    def build_observed_stack() -> ASGIApp:
        faulted = FaultInjectionMiddleware(
            build_stack(),
            faults=telemetry.faults,
            routes=lambda: app.router.routes,
            excluded_paths=excluded,
        )
        return ObservabilityMiddleware(
            faulted,
            tracer=telemetry.tracer("observability.asgi"),
            duration=telemetry.metrics.http_server_duration,
            excluded_paths=excluded,
            access_log=telemetry.access_log if policy.mode is not AccessLogMode.OFF else False,
            redactor=telemetry.redactor,
            access_policy=policy,
        )

    # Starlette builds the stack once, on the first request or lifespan event, and offers no
    # other way to place a middleware outside ServerErrorMiddleware.
    app.build_middleware_stack = build_observed_stack  # type: ignore[method-assign]


def _disable_native_telemetry(app: Starlette) -> None:
    # FastAPI keeps the `FastAPI(telemetry={...})` options in this dict and reads it per
    # request; there is no public setter once the app exists.
    config = getattr(app, "_telemetry", None)
    if isinstance(config, dict):
        config.update(tracing=False, metrics=False, logs=False, operation_spans=False)


class _Server(uvicorn.Server):
    """A uvicorn server that leaves SIGTERM/SIGINT to the `ShutdownCoordinator`."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(
    app: Any,
    telemetry: Telemetry,
    *,
    host: str = "0.0.0.0",
    port: int = 8000,
    **uvicorn_options: Any,
) -> None:
    """Serve ``app`` until SIGTERM, then drain and flush; returns normally (exit code 0).

    Sequence on SIGTERM: /readyz turns 503 -> optional drain delay -> uvicorn stops accepting
    and waits for in-flight requests (bounded by the grace period) -> the app's lifespan
    shutdown runs -> telemetry is flushed.
    """
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,  # records reach the root logger: JSON, redacted, exported
        access_log=False,  # the span and the RED histogram already say it
        timeout_graceful_shutdown=int(telemetry.settings.shutdown_grace_seconds),
        **uvicorn_options,
    )
    server = _Server(config)
    serving = asyncio.create_task(server.serve(), name="uvicorn")

    async def stop_http(_left: float) -> None:
        server.should_exit = True
        await serving

    telemetry.lifecycle.on_drain("http server", stop_http)
    await telemetry.start()
    requested = asyncio.create_task(telemetry.lifecycle.wait_for_shutdown_request())
    # uvicorn exposes startup only as a flag, not an event.
    while not server.started and not serving.done():  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    if server.started:
        telemetry.mark_started()
    await asyncio.wait({serving, requested}, return_when=asyncio.FIRST_COMPLETED)
    if serving.done() and not requested.done():
        # uvicorn stopped on its own (bind failure, lifespan error): still flush, then report.
        requested.cancel()
        await telemetry.lifecycle.shutdown()
        await telemetry.admin.stop()
        serving.result()
        raise RuntimeError("the HTTP server stopped before shutdown was requested")
    await telemetry.lifecycle.shutdown()
    await telemetry.admin.stop()
    telemetry.lifecycle.remove_signal_handlers()
