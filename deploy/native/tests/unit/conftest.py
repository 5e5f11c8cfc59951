"""What the services' telemetry carries, read from the library that sends it.

The compose configs (Loki's index labels, Tempo's dimensions, Grafana's queries) name OTLP
attributes and fields; these fixtures say which ones the services really send, so a check can
tell a name the native stack also has from one nothing produces.
"""

from __future__ import annotations

import inspect

import pytest

from observability.otlp_logs import encode_log_fields
from observability.settings import ObservabilitySettings
from observability.tracing import build_resource

# The OTLP LogRecord fields a trace is joined on; Loki keeps them as structured metadata of these
# names, VictoriaLogs as fields.
TRACE_JOIN_FIELDS = frozenset({"trace_id", "span_id"})


@pytest.fixture(scope="session")
def service_resource_attributes() -> frozenset[str]:
    """The resource attribute keys of every span, log record and metric a service sends."""
    return frozenset(build_resource(ObservabilitySettings(service_name="user")).attributes)


@pytest.fixture(scope="session")
def log_record_fields() -> frozenset[str]:
    """The trace-joining fields every OTLP log record of a service carries (inside a span)."""
    encoded = frozenset(inspect.signature(encode_log_fields).parameters)
    assert encoded >= TRACE_JOIN_FIELDS, "the services' log encoder no longer sends trace ids"
    return TRACE_JOIN_FIELDS
