"""Probes for the Collector-outage drill: how loudly the services complained, what was lost, and
whether tracing works again afterwards.

While the OpenTelemetry Collector is down each process should write one WARNING per signal when
its exports start failing and one INFO when they recover (observability.export_health), not a
line per retry. `check_export_log_lines` counts those lines in each process's log over the drill
and reads the losses (`telemetry_items_dropped_total`, `telemetry_export_failures_total`) from
Prometheus. `check_trace_whole` sends one real journey after the Collector is back — register and
log in on the user service, then CreateOrder on the order service, which asks the user service —
under a trace id of its own, and checks that Jaeger holds spans of both services and that every
span's parent is in the trace.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration

from threadline_chaos import checks, prometheus
from threadline_chaos.admin_metrics import AdminMetricsError, read_sample
from threadline_chaos.endpoints import endpoint
from threadline_chaos.stack_access import PROCESS_COMPONENTS, context
from threadline_contracts.order.v1 import order_pb2, order_pb2_grpc
from threadline_loadtests.accounts import new_identity
from threadline_native.paths import Layout

__all__ = [
    "ExportLines",
    "check_export_log_lines",
    "check_trace_whole",
    "count_export_lines",
    "orphan_spans",
]

# The loggers whose lines say "an export failed": the SDK's exporter and batch processor (their
# per-retry lines, filtered by observability but counted here should they come back) and the
# library's own transition line.
_SDK_EXPORT_LOGGERS = frozenset(
    {"opentelemetry.exporter.otlp.proto.grpc.exporter", "opentelemetry.sdk._shared_internal"}
)
_HEALTH_LOGGER = "observability.export_health"
_TRACE_SERVICES = frozenset({"user", "order"})


@dataclass(frozen=True)
class ExportLines:
    """One process's export lines in a window."""

    failures: int  # export-failure lines: the library's WARNING and any SDK export line
    recoveries: int  # "telemetry export recovered" lines


def count_export_lines(lines: Iterable[str], *, since: datetime, until: datetime) -> ExportLines:
    """Count a process's export-failure and recovery lines (JSON log lines) in [since, until]."""
    failures = recoveries = 0
    for raw in lines:
        try:
            line = json.loads(raw)
            moment = datetime.fromisoformat(str(line["timestamp"]).replace("Z", "+00:00"))
        except (ValueError, KeyError, TypeError):
            continue  # not a JSON log line (a component's start-up banner)
        if not since <= moment <= until:
            continue
        logger, level = line.get("logger"), line.get("level")
        if logger in _SDK_EXPORT_LOGGERS or (logger == _HEALTH_LOGGER and level == "WARNING"):
            failures += 1
        elif logger == _HEALTH_LOGGER and line.get("message") == "telemetry export recovered":
            recoveries += 1
    return ExportLines(failures=failures, recoveries=recoveries)


def _losses(configuration: Configuration, window_seconds: int) -> dict[str, float]:
    """Items dropped and batches failed over the window, by service, signal and reason."""
    url = endpoint(configuration, "prometheus_url")
    found: dict[str, float] = {}
    for name, expression in (
        (
            "dropped",
            "sum by (service, signal, reason) "
            f"(increase(telemetry_items_dropped_total[{window_seconds}s]))",
        ),
        (
            "failed batches",
            "sum by (service, signal) "
            f"(increase(telemetry_export_failures_total[{window_seconds}s]))",
        ),
    ):
        for sample in prometheus.query(url, expression):
            labels = ", ".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found[f"{name} ({labels})"] = round(sample.value)
    return found


def check_export_log_lines(
    *,
    window_seconds: int,
    max_failure_lines: int = 2,
    recovery_wait_seconds: float = 30.0,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """At most max_failure_lines export-failure lines per process over the last window_seconds.

    Reads the logs the native stack runner writes (`make logs`); each process that failed must
    also write its recovery line, waited for up to recovery_wait_seconds: a quiet process (the
    relay, the consumer) exports, and so recovers, only when its next batch is due after the
    exporter's retries (the consumer's came 21 s after the Collector's start, 3.5 s after a
    check that did not wait). The losses are read from Prometheus and reported, not judged: how
    much is dropped depends on the load, what matters is that it is counted.
    """
    began = time.monotonic()
    since = datetime.now(UTC) - timedelta(seconds=window_seconds)
    layout = context().layout
    while True:
        per_process = _export_lines(layout, since=since)
        silent = [p for p, c in per_process.items() if c.failures and not c.recoveries]
        waited = time.monotonic() - began
        if not silent or waited >= recovery_wait_seconds:
            break
        time.sleep(1.0)
    losses = _losses(configuration, window_seconds)
    loud = {p: c.failures for p, c in per_process.items() if c.failures > max_failure_lines}
    held = not loud and not silent
    summary = (
        "export-failure lines per process over the last "
        f"{window_seconds} s: "
        + ", ".join(f"{p} {c.failures} (recovered {c.recoveries})" for p, c in per_process.items())
        + f"; at most {max_failure_lines} allowed"
        + (f"; over: {loud}" if loud else "")
        + (f"; no recovery line from {', '.join(silent)}" if silent else "")
    )
    check = checks.record(
        checks.MethodCheck(
            name="telemetry-export-lines",
            held=held,
            summary=summary,
            observations=(
                *(
                    (f"{p}: failure / recovery lines", f"{c.failures} / {c.recoveries}")
                    for p, c in per_process.items()
                ),
                ("waited for the recovery lines (s)", f"{waited:.1f}"),
                *((what, f"{value:g}") for what, value in losses.items()),
            ),
        )
    )
    if not held:
        raise ActivityFailed(check.summary)
    return {
        "lines": {p: vars(c) for p, c in per_process.items()},
        "losses": losses,
    }


def _export_lines(layout: Layout, *, since: datetime) -> dict[str, ExportLines]:
    """Each process's export-failure and recovery lines logged since `since`."""
    until = datetime.now(UTC)
    per_process: dict[str, ExportLines] = {}
    for process in PROCESS_COMPONENTS:
        log_file = layout.log_file(process)
        if not log_file.exists():
            raise ActivityFailed(f"no log of {process} at the stack's log directory (`make logs`)")
        with log_file.open(errors="replace") as lines:
            per_process[process] = count_export_lines(lines, since=since, until=until)
    return per_process


def orphan_spans(trace: Mapping[str, Any], *, caller_span_id: str) -> list[str]:
    """Spans (by name) whose parent is neither in the Jaeger trace nor the caller's own span."""
    spans = trace.get("spans", [])
    present = {span["spanID"] for span in spans} | {caller_span_id}
    return [
        str(span.get("operationName", span["spanID"]))
        for span in spans
        for reference in span.get("references", [])
        if reference.get("refType") == "CHILD_OF" and reference["spanID"] not in present
    ]


def _services(trace: Mapping[str, Any]) -> set[str]:
    return {str(p.get("serviceName")) for p in trace.get("processes", {}).values()}


def _journey(configuration: Configuration, traceparent: str) -> str:
    """Register and log in (user HTTP), then CreateOrder (order gRPC, which asks user)."""
    identity = new_identity(f"chaos{secrets.token_hex(4)}", "trace")
    headers = {"traceparent": traceparent}
    with httpx.Client(base_url=endpoint(configuration, "user_url"), timeout=10) as http:
        http.post("/v1/users", json=identity.registration(), headers=headers).raise_for_status()
        token = http.post("/v1/auth/token", json=identity.credentials(), headers=headers)
        token.raise_for_status()
    request = order_pb2.CreateOrderRequest(
        idempotency_key=uuid.uuid4().hex,
        lines=[order_pb2.CreateOrderLine(product_id="french-press", quantity=1)],
    )
    metadata = (
        ("traceparent", traceparent),
        ("authorization", f"Bearer {token.json()['access_token']}"),
    )
    with grpc.insecure_channel(endpoint(configuration, "order_target")) as channel:
        created = order_pb2_grpc.OrderServiceStub(channel).CreateOrder(
            request, metadata=metadata, timeout=10
        )
    return str(created.order.id)


def _await_exporters_up(bound_seconds: float) -> float:
    """Seconds until user's and order's trace exporters succeed again (their admin ports)."""
    began = time.monotonic()
    while True:
        try:
            up = [
                read_sample(role, "telemetry_exporter_up", {"signal": "traces"})
                for role in sorted(_TRACE_SERVICES)
            ]
        except AdminMetricsError:
            up = []
        if up and all(value == 1 for value in up):
            return time.monotonic() - began
        if time.monotonic() - began > bound_seconds:
            raise ActivityFailed(
                f"user's and order's trace exporters were not up {bound_seconds:.0f} s after "
                f"the Collector started (telemetry_exporter_up: {up})"
            )
        time.sleep(0.5)


def check_trace_whole(
    *, wait_seconds: float = 30.0, configuration: Configuration = None
) -> dict[str, Any]:
    """After recovery, one journey's trace reaches Jaeger whole: both services, no lost parent.

    "After recovery" is once both services' trace exporters have exported again: until then a
    batch still in its retry back-off (or a gRPC channel still backing off its reconnects) fails
    even though the Collector is up, and the journey's spans would go with it.
    """
    exporters_up_after = _await_exporters_up(wait_seconds)
    trace_id, caller_span_id = secrets.token_hex(16), secrets.token_hex(8)
    try:
        order_id = _journey(configuration, f"00-{trace_id}-{caller_span_id}-01")
    except (httpx.HTTPError, grpc.RpcError) as error:
        raise ActivityFailed(f"the traced journey failed: {error}") from error
    url = f"{endpoint(configuration, 'jaeger_url')}/api/traces/{trace_id}"
    began = time.monotonic()
    trace: Mapping[str, Any] = {}
    # Spans arrive in batches (up to 5 s apart per process): wait until both services are in and
    # the span count has stopped growing.
    previous = -1
    while time.monotonic() - began < wait_seconds:
        response = httpx.get(url, timeout=5)
        if response.status_code == httpx.codes.OK and response.json().get("data"):
            trace = response.json()["data"][0]
            count = len(trace.get("spans", []))
            if _services(trace) >= _TRACE_SERVICES and count == previous:
                break
            previous = count
        time.sleep(2)
    services, orphans = _services(trace), orphan_spans(trace, caller_span_id=caller_span_id)
    span_count = len(trace.get("spans", []))
    held = services >= _TRACE_SERVICES and not orphans
    check = checks.record(
        checks.MethodCheck(
            name="trace-whole-after-recovery",
            held=held,
            summary=(
                f"trace {trace_id} (register, log in, CreateOrder): {span_count} spans in Jaeger "
                f"from {', '.join(sorted(services)) or 'no service'}"
                + (f"; spans without their parent: {orphans}" if orphans else "; no lost parent")
            ),
            observations=(
                ("trace exporters up again after (s)", f"{exporters_up_after:.1f}"),
                ("trace id", trace_id),
                ("spans", str(span_count)),
                ("services", ", ".join(sorted(services))),
                ("spans without their parent", str(len(orphans))),
                ("seconds until whole", f"{time.monotonic() - began:.1f}"),
            ),
        )
    )
    if not held:
        raise ActivityFailed(check.summary)
    return {
        "trace_id": trace_id,
        "order_id": order_id,
        "spans": span_count,
        "exporters_up_after_s": round(exporters_up_after, 1),
    }
