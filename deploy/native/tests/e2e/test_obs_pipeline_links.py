"""The real backends, started natively, carry a trace and its logs along every link.

Starts the observability backends, sends the synthetic two-service probe through the collector
and checks what `make verify --backends-only` checks. Backends this session started are stopped
after. It needs the backends built (`make build-backends`: tens of minutes on two cores, once);
without them it is skipped with that instruction rather than building inside the test run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from threadline_native.component import Component
from threadline_native.components.goserver import GoServer
from threadline_native.stack import ensure_up, load_context, select, stop_components
from threadline_native.verify import checks
from threadline_native.verify.backends import Endpoints
from threadline_native.verify.run import probe_checks

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

BACKENDS = (
    "victorialogs",
    "jaeger",
    "prometheus",
    "alert-recorder",
    "alertmanager",
    "otel-collector",
)


@pytest.fixture(scope="module")
def backends() -> Iterator[list[Component]]:
    components = select(load_context(), BACKENDS)
    unbuilt = [c.name for c in components if isinstance(c, GoServer) and not c.binary().is_file()]
    if unbuilt:
        pytest.skip(f"backends not built yet ({', '.join(unbuilt)}); run `make build-backends`")
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
