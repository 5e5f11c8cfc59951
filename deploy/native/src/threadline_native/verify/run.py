"""What `make verify` runs: the probe's links, the journeys' links and the static checks."""

from __future__ import annotations

import time
from pathlib import Path

from threadline_native.verify import checks, journeys
from threadline_native.verify.backends import Endpoints
from threadline_native.verify.checks import Result, TracedSubject
from threadline_native.verify.http import HttpError
from threadline_native.verify.probe import PROBE_CLIENT_SERVICE, PROBE_SERVER_SERVICE, send_probe


def probe_checks(endpoints: Endpoints, timeout: float) -> list[Result]:
    try:
        probe = send_probe(endpoints.collector_http)
    except HttpError as error:
        return [Result("OTLP into the collector", "probe", ok=False, detail=str(error))]
    subject = TracedSubject(
        f"probe {probe.trace_id[:8]}", probe.trace_id, probe.services, probe.sent_at
    )
    results = [Result("OTLP into the collector", subject.name, ok=True, detail=probe.trace_id)]
    results += checks.trace_in_stores(endpoints, subject, timeout)
    results += checks.logs_in_loki(endpoints, subject, timeout)
    results.append(
        checks.exemplar_resolves(
            endpoints,
            "span metrics (collector)",
            selector=f'traces_spanmetrics_duration_seconds_bucket{{service_name="{PROBE_SERVER_SERVICE}"}}',
            since=probe.sent_at,
            wanted={probe.trace_id},
            timeout=timeout,
        )
    )
    results.append(
        checks.series_exist(
            endpoints,
            "span-metric series",
            "probe",
            f'traces_spanmetrics_calls_total{{service_name="{PROBE_SERVER_SERVICE}"}}',
            timeout,
        )
    )
    results.append(
        checks.series_exist(
            endpoints,
            "service-graph series",
            f"{PROBE_CLIENT_SERVICE} -> {PROBE_SERVER_SERVICE}",
            f'traces_service_graph_request_total{{client="{PROBE_CLIENT_SERVICE}",'
            f'server="{PROBE_SERVER_SERVICE}"}}',
            timeout,
        )
    )
    return results


def journey_checks(endpoints: Endpoints, timeout: float) -> list[Result]:
    if not journeys.services_answer():
        return [
            Result(
                "journeys through the services",
                "user :8000, order :50051",
                ok=False,
                detail="the services do not answer; start them, or use --backends-only",
            )
        ]
    since = time.time()
    try:
        done, _user_id, token = journeys.run_user_journeys()
        done.append(journeys.run_order_journey(token))
    except journeys.JourneyError as error:
        return [Result("journeys through the services", "user, order", ok=False, detail=str(error))]
    results = [Result("journey ran", j.name, ok=True, detail=j.trace_id) for j in done]
    wanted = {j.trace_id for j in done}
    for journey in done:
        subject = TracedSubject(journey.name, journey.trace_id, journey.services, since)
        results += checks.trace_in_stores(endpoints, subject, timeout)
        results += checks.logs_in_loki(endpoints, subject, timeout)
    for name, selector in (
        ("user HTTP latency", 'http_server_request_duration_seconds_bucket{service="user"}'),
        ("order gRPC latency", 'grpc_server_handling_seconds_bucket{service="order"}'),
    ):
        results.append(
            checks.exemplar_resolves(
                endpoints, name, selector=selector, since=since, wanted=wanted, timeout=timeout
            )
        )
    for service in ("user", "order"):
        results.append(
            checks.series_exist(
                endpoints,
                "span-metric series",
                service,
                f'traces_spanmetrics_calls_total{{service_name="{service}"}}',
                timeout,
            )
        )
    results.append(
        checks.series_exist(
            endpoints,
            "service-graph series",
            "order -> user",
            'traces_service_graph_request_total{client="order",server="user"}',
            timeout,
        )
    )
    return results


def run_all(
    endpoints: Endpoints, compose_dir: Path, *, backends_only: bool, timeout: float
) -> list[Result]:
    """Every check, in the order the table shows them."""
    results = probe_checks(endpoints, timeout)
    if not backends_only:
        results += journey_checks(endpoints, timeout)
    results.append(checks.alert_reaches_webhook(endpoints, timeout))
    results.append(checks.datasource_uids(compose_dir))
    if backends_only:
        results.append(
            Result(
                "panel returns data", "all dashboards", ok=True, detail="skipped: needs services"
            )
        )
    else:
        results += checks.dashboard_panels(endpoints, compose_dir)
    return results
