"""What `make verify` runs, in the order the table shows it: see the package docstring."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from threadline_native.verify import (
    dashboards,
    generated,
    journeys,
    links,
    logs,
    metrics,
    pictures,
    refusals,
    rules,
    traces,
)
from threadline_native.verify.alerts import alert_reaches_webhook
from threadline_native.verify.endpoints import Endpoints, Mode
from threadline_native.verify.http import HttpError
from threadline_native.verify.journeys import Journey, JourneyError
from threadline_native.verify.links import Link
from threadline_native.verify.preflight import preflight
from threadline_native.verify.probe import PROBE_CLIENT_SERVICE, PROBE_SERVER_SERVICE, send_probe
from threadline_native.verify.result import Result, State

# The services' latency histograms whose exemplars must lead to our traces.
LATENCY_HISTOGRAMS = (
    ("user HTTP latency", 'http_server_request_duration_seconds_bucket{service="user"}'),
    ("order gRPC latency", 'grpc_server_handling_seconds_bucket{service="order"}'),
)

PROBE_SPANS = f'{{service_name="{PROBE_SERVER_SERVICE}"}}'


@dataclass(frozen=True)
class Plan:
    endpoints: Endpoints
    mode: Mode
    compose_dir: Path
    # Where the waterfall pictures go (reports/verify/).
    reports_dir: Path
    backends_only: bool
    timeout: float


@dataclass
class Verification:
    results: list[Result] = field(default_factory=list)
    # The links a person opens, per journey (the probe's included).
    links: list[tuple[Journey, list[Link]]] = field(default_factory=list)
    # A component did not answer, so nothing was checked (results name what is missing).
    stopped: bool = False

    @property
    def ok(self) -> bool:
        return not any(result.broken for result in self.results)


def _trace_and_logs(plan: Plan, journey: Journey) -> list[Result]:
    results = traces.trace_in_stores(plan.endpoints, plan.mode, journey, plan.timeout)
    if journey.crosses_kafka:
        results.append(traces.kafka_hop(plan.endpoints, journey, plan.timeout))
    results += logs.logs_in_stores(plan.endpoints, plan.mode, journey, plan.timeout)
    if journey.refused_by:
        results.append(logs.refusal_logged(plan.endpoints, journey, plan.timeout))
    return results


def probe_checks(plan: Plan) -> tuple[list[Result], Journey | None]:
    """The synthetic two-service probe along every pipeline; no service needs to run."""
    try:
        sent = send_probe(plan.endpoints.collector_http)
    except HttpError as error:
        return [Result.judged("OTLP into the collector", "probe", False, str(error))], None
    probe = Journey(
        "probe (OTLP)",
        sent.trace_id,
        sent.services,
        sent.sent_at - 1,
        f"sum by (span_name) (rate(traces_spanmetrics_calls_total{PROBE_SPANS}[5m]))",
        "accepted",
    )
    results = [Result.judged("OTLP into the collector", probe.name, True, probe.trace_id)]
    results += _trace_and_logs(plan, probe)
    results.append(
        metrics.exemplars_resolve(
            plan.endpoints,
            "span metrics (collector)",
            selector=f"traces_spanmetrics_duration_seconds_bucket{PROBE_SPANS}",
            since=probe.started_at,
            ours={probe.trace_id},
            timeout=plan.timeout,
        )
    )
    results.append(metrics.span_metrics(plan.endpoints, PROBE_SERVER_SERVICE, plan.timeout))
    results.append(
        metrics.service_graph_edge(
            plan.endpoints, plan.mode, PROBE_CLIENT_SERVICE, PROBE_SERVER_SERVICE, plan.timeout
        )
    )
    return results, probe


def run_journeys(endpoints: Endpoints) -> tuple[list[Result], list[Journey]]:
    """Every journey through the services, the refusals last; one row per journey."""
    try:
        done, account = journeys.user_journeys(endpoints)
        done.append(journeys.order_journey(endpoints, account))
        done += generated.journeys()
    except (JourneyError, HttpError) as error:
        return [Result.judged("journey answered", "user, order", False, str(error))], []
    done.append(refusals.unknown_product_order(endpoints, account))
    done.append(refusals.nul_in_full_name(endpoints))
    rows = [
        Result.judged("journey answered", j.name, j.as_expected, f"{j.outcome}; trace {j.trace_id}")
        for j in done
    ]
    return rows, done


def journey_checks(plan: Plan, done: list[Journey]) -> list[Result]:
    """Each journey's trace and logs, then the metric links all of them feed."""
    results = [row for journey in done for row in _trace_and_logs(plan, journey)]
    ours, since = {j.trace_id for j in done}, min(j.started_at for j in done)
    for name, selector in (*LATENCY_HISTOGRAMS, *generated.latency_histograms()):
        results.append(
            metrics.exemplars_resolve(
                plan.endpoints,
                name,
                selector=selector,
                since=since,
                ours=ours,
                timeout=plan.timeout,
            )
        )
    services = ("user", "order", *(e.name for e in generated.generated_entries()))
    results += [metrics.span_metrics(plan.endpoints, s, plan.timeout) for s in services]
    results.append(
        metrics.service_graph_edge(plan.endpoints, plan.mode, "order", "user", plan.timeout)
    )
    results += rules.recording_rules_have_data(plan.endpoints, plan.timeout)
    return results


def pictures_and_links(
    plan: Plan, done: list[Journey]
) -> tuple[list[Result], list[tuple[Journey, list[Link]]]]:
    """A waterfall per journey and the links to open."""
    rows, found = [], []
    for journey in done:
        row, picture = pictures.draw(plan.endpoints, journey, plan.reports_dir)
        rows.append(row)
        found.append((journey, links.journey_links(plan.endpoints, plan.mode, journey, picture)))
    return rows, found


def _dashboards(plan: Plan) -> list[Result]:
    results = [dashboards.datasource_uids(plan.compose_dir)]
    if plan.backends_only:
        skipped = "needs the services' traffic; run without --backends-only"
        return [*results, Result("panel returns data", "every dashboard", State.SKIPPED, skipped)]
    return results + dashboards.panels(plan.endpoints, plan.mode, plan.compose_dir, plan.timeout)


def run_all(plan: Plan) -> Verification:
    """Every check; stops after the first step when a component does not answer."""
    verification = Verification(
        preflight(plan.endpoints, plan.mode, services=not plan.backends_only)
    )
    if not verification.ok:
        verification.stopped = True
        return verification
    probe_rows, probe = probe_checks(plan)
    verification.results += probe_rows
    done = [probe] if probe else []
    if not plan.backends_only:
        ran, journeys_done = run_journeys(plan.endpoints)
        verification.results += ran
        if journeys_done:
            verification.results += journey_checks(plan, journeys_done)
        done += journeys_done
    verification.results.append(rules.rules_evaluate(plan.endpoints))
    verification.results.append(alert_reaches_webhook(plan.endpoints, plan.timeout))
    verification.results += _dashboards(plan)
    picture_rows, verification.links = pictures_and_links(plan, done)
    verification.results += picture_rows
    return verification
