"""The real backends, started natively, carry a trace and its logs along every link.

Starts the native observability backends (VictoriaLogs, Jaeger, Prometheus, the alert recorder,
Alertmanager, the collector), sends the synthetic two-service probe through the collector and
checks what `make verify --backends-only` checks: the trace in Jaeger, each service's log lines
in VictoriaLogs by trace_id, the span-metric exemplar resolving in Jaeger, the span-metric
series, and the verify-order -> verify-user edge in Jaeger's dependencies. Then it opens every
link `make verify` prints for the probe and finds the probe's data behind each. Backends this
session started are stopped after. It needs the backends built (`make build-backends`: tens of
minutes on two cores, once); without them it is skipped with that instruction rather than
building inside the test run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from threadline_native.component import Component
from threadline_native.components.goserver import GoServer
from threadline_native.paths import Layout, find_project_root
from threadline_native.stack import ensure_up, load_context, select, stop_components
from threadline_native.verify import victorialogs
from threadline_native.verify.alerts import alert_reaches_webhook
from threadline_native.verify.endpoints import Endpoints, Mode
from threadline_native.verify.http import get_json, request
from threadline_native.verify.journeys import Journey
from threadline_native.verify.links import journey_links
from threadline_native.verify.result import Result, eventually
from threadline_native.verify.run import Plan, probe_checks

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

BACKENDS = (
    "victorialogs",
    "jaeger",
    "prometheus",
    "alert-recorder",
    "alertmanager",
    "otel-collector",
)
ENDPOINTS = Endpoints()


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


@pytest.fixture(scope="module")
def probed(
    backends: list[Component], tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[Result], Journey]:
    plan = Plan(
        endpoints=ENDPOINTS,
        mode=Mode.NATIVE,
        compose_dir=Layout(find_project_root(Path(__file__).parent)).compose_dir,
        reports_dir=tmp_path_factory.mktemp("verify"),
        backends_only=True,
        timeout=90,
    )
    results, probe = probe_checks(plan)
    assert probe is not None, results
    return results, probe


def test_probe_trace_reaches_jaeger_victorialogs_and_prometheus(
    probed: tuple[list[Result], Journey],
) -> None:
    results, _ = probed
    assert [result for result in results if result.broken] == []
    assert {result.check for result in results} >= {
        "trace in Jaeger",
        "logs in VictoriaLogs by trace_id",
        "exemplar -> trace in Jaeger",
        "span-metric series",
        "service-graph edge (Jaeger dependencies)",
    }
    assert {r.subject for r in results if r.check == "logs in VictoriaLogs by trace_id"} == {
        "probe (OTLP) / verify-order",
        "probe (OTLP) / verify-user",
    }


def test_every_link_printed_for_the_probe_opens_on_its_data(
    probed: tuple[list[Result], Journey],
) -> None:
    _, probe = probed
    links = {link.label: link.target for link in journey_links(ENDPOINTS, Mode.NATIVE, probe, None)}

    trace = get_json(links["trace (Jaeger API)"])["data"][0]
    assert trace["traceID"] == probe.trace_id

    # vmui routes in the hash: the page itself is served, the query is what it runs.
    ui = urlsplit(links["logs (VictoriaLogs UI)"])
    status, page = request("GET", f"{ui.scheme}://{ui.netloc}{ui.path}")
    assert status == 200
    assert "<html" in str(page).lower()
    logsql = parse_qs(ui.fragment.partition("?")[2])["query"][0]
    records = victorialogs.query(ENDPOINTS, logsql)
    assert {r["service.name"] for r in records} == {"verify-order", "verify-user"}
    assert {r["trace_id"] for r in records} == {probe.trace_id}

    # A rate() needs two span-metric samples, flushed 15 s apart: on freshly started backends
    # the link shows data within that, as `make verify`'s own check allows for.
    answer = eventually(
        lambda: get_json(links["metrics (Prometheus API)"]),
        lambda found: bool(found["data"]["result"]),
        timeout=60,
    )
    assert answer["status"] == "success"
    assert answer["data"]["result"], links["metrics (Prometheus API)"]


@pytest.mark.usefixtures("backends")
def test_an_alert_is_routed_by_severity_to_the_webhook_recorder() -> None:
    result = alert_reaches_webhook(ENDPOINTS, timeout=60)
    assert not result.broken, result.detail
