"""What the services' telemetry carries, read from the libraries that send it.

The compose configs (Loki's index labels, Tempo's dimensions, Grafana's queries) name OTLP
attributes, log fields and metrics; these fixtures say which ones the services really send, so a
check can tell a name the native stack also has from one nothing produces.
"""

from __future__ import annotations

import inspect

import pytest
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector

from observability.otlp_logs import encode_log_fields
from observability.settings import ObservabilitySettings
from observability.tracing import build_resource
from threadline_native.metric_catalogue import Series

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


@pytest.fixture(scope="session")
def client_library_series() -> list[Series]:
    """``process_*``, ``python_gc_*`` and ``python_info`` of every service's registry.

    observability's ``setup`` registers exactly these three collectors; here they are asked what
    they expose, on this machine's CPython, rather than listed by hand.
    """
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return [
        Series(sample.name, frozenset(sample.labels), "prometheus-client built-in")
        for family in registry.collect()
        for sample in family.samples
    ]
