"""A synthetic two-service trace and its log lines, sent to the collector as OTLP/HTTP JSON.

The shape is the project's cross-service hop: the order service handles CreateOrder (SERVER),
calls the user service (CLIENT), which handles GET /v1/users/{user_id} (SERVER). That is enough
for the service graph to see an edge (Jaeger's dependencies natively, Tempo's metrics-generator
under compose) and for the span metrics to count both services. The service names are the real
ones with a `verify-` prefix, so probe traffic never mixes with the services' own series on the
dashboards.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from threadline_native.verify.http import HttpError, request

PROBE_CLIENT_SERVICE = "verify-order"
PROBE_SERVER_SERVICE = "verify-user"
_SPAN_KIND_SERVER = 2
_SPAN_KIND_CLIENT = 3


@dataclass(frozen=True)
class ProbeTrace:
    trace_id: str
    services: tuple[str, ...]
    sent_at: float


def _attributes(**values: str | int) -> list[dict[str, object]]:
    return [
        {"key": key.replace("__", "."), "value": {"intValue": str(v)}}
        if isinstance(v, int)
        else {"key": key.replace("__", "."), "value": {"stringValue": v}}
        for key, v in values.items()
    ]


def _resource(service: str) -> dict[str, object]:
    return {
        "attributes": _attributes(
            service__name=service, deployment__environment="verify", service__version="probe"
        )
    }


def _span(
    ids: tuple[str, str, str],
    name: str,
    *,
    kind: int,
    start_ns: int,
    end_ns: int,
    attributes: list[dict[str, object]],
) -> dict[str, object]:
    trace_id, span_id, parent = ids
    return {
        "traceId": trace_id,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": name,
        "kind": kind,
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(end_ns),
        "attributes": attributes,
        "status": {"code": 1},
    }


def _scoped(service: str, key: str, items: list[dict[str, object]]) -> dict[str, object]:
    """One resource (service) with one instrumentation scope holding spans or log records."""
    scope_key, items_key = (
        ("scopeSpans", "spans") if key == "spans" else ("scopeLogs", "logRecords")
    )
    return {
        "resource": _resource(service),
        scope_key: [{"scope": {"name": "threadline.verify"}, items_key: items}],
    }


def _log(trace_id: str, span_id: str, at_ns: int, message: str) -> dict[str, object]:
    return {
        "timeUnixNano": str(at_ns),
        "severityNumber": 9,
        "severityText": "INFO",
        "body": {"stringValue": message},
        "traceId": trace_id,
        "spanId": span_id,
        "attributes": _attributes(threadline__verify="probe"),
    }


def send_probe(collector_http: str) -> ProbeTrace:
    """Send one trace (three spans, two services) and a log line per span; return its id."""
    trace_id = secrets.token_hex(16)
    server_id, client_id, remote_id = (secrets.token_hex(8) for _ in range(3))
    now = time.time_ns()
    ms = 1_000_000
    order_spans = [
        _span(
            (trace_id, server_id, ""),
            "order.v1.OrderService/CreateOrder",
            kind=_SPAN_KIND_SERVER,
            start_ns=now - 40 * ms,
            end_ns=now,
            attributes=_attributes(rpc__system="grpc", rpc__method="CreateOrder"),
        ),
        _span(
            (trace_id, client_id, server_id),
            "GET",
            kind=_SPAN_KIND_CLIENT,
            start_ns=now - 30 * ms,
            end_ns=now - 10 * ms,
            attributes=_attributes(http__request__method="GET", server__address="user"),
        ),
    ]
    user_spans = [
        _span(
            (trace_id, remote_id, client_id),
            "GET /v1/users/{user_id}",
            kind=_SPAN_KIND_SERVER,
            start_ns=now - 28 * ms,
            end_ns=now - 12 * ms,
            attributes=_attributes(http__request__method="GET", http__route="/v1/users/{user_id}"),
        ),
    ]
    order_logs = [
        _log(trace_id, server_id, now - 35 * ms, "probe: order handled CreateOrder"),
        _log(trace_id, client_id, now - 20 * ms, "probe: order called user"),
    ]
    user_logs = [_log(trace_id, remote_id, now - 15 * ms, "probe: user served a user lookup")]
    traces = {
        "resourceSpans": [
            _scoped(PROBE_CLIENT_SERVICE, "spans", order_spans),
            _scoped(PROBE_SERVER_SERVICE, "spans", user_spans),
        ]
    }
    logs = {
        "resourceLogs": [
            _scoped(PROBE_CLIENT_SERVICE, "logs", order_logs),
            _scoped(PROBE_SERVER_SERVICE, "logs", user_logs),
        ]
    }
    for path, payload in (("/v1/traces", traces), ("/v1/logs", logs)):
        status, body = request("POST", f"{collector_http}{path}", body=payload)
        if status != 200:
            raise HttpError(f"{collector_http}{path}", status, str(body))
    return ProbeTrace(trace_id, (PROBE_CLIENT_SERVICE, PROBE_SERVER_SERVICE), time.time())
