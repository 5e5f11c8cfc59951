"""The real backends, started natively, carry a trace and its logs along every link.

Starts the observability backends (building any not cached yet: tens of minutes on a cold
cache, seconds after), sends the synthetic two-service probe through the collector and checks
what `make verify --backends-only` checks. Backends this session started are stopped after.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from threadline_native.component import Component
from threadline_native.stack import ensure_up, load_context, select, stop_components
from threadline_native.verify import checks
from threadline_native.verify.backends import Endpoints
from threadline_native.verify.run import probe_checks

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(3600)]

BACKENDS = (
    "loki",
    "tempo",
    "jaeger",
    "prometheus",
    "alert-recorder",
    "alertmanager",
    "otel-collector",
)


@pytest.fixture(scope="module")
def backends() -> Iterator[list[Component]]:
    components = select(load_context(), BACKENDS)
    started = ensure_up(components, progress=False)
    try:
        yield components
    finally:
        stop_components(started)


@pytest.mark.usefixtures("backends")
def test_probe_trace_reaches_tempo_jaeger_loki_and_prometheus() -> None:
    results = probe_checks(Endpoints(), timeout=90)
    broken = [result for result in results if not result.ok]
    assert len(results) >= 8
    assert broken == []


@pytest.mark.usefixtures("backends")
def test_an_alert_is_routed_by_severity_to_the_webhook_recorder() -> None:
    result = checks.alert_reaches_webhook(Endpoints(), timeout=60)
    assert result.ok, result.detail
