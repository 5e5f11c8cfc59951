"""The links `make verify` proves, one function per kind of link, each returning Results."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from threadline_native.grafana_refs import dashboards, datasources, panel_queries, referenced_uids
from threadline_native.verify.backends import (
    Endpoints,
    jaeger_services,
    loki_lines,
    loki_query_has_data,
    prometheus_exemplar_trace_ids,
    prometheus_query,
    tempo_services,
)
from threadline_native.verify.http import HttpError, get_json, request

T = TypeVar("T")


@dataclass(frozen=True)
class Result:
    check: str
    subject: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class TracedSubject:
    """A trace we caused, and the services whose spans and logs it must have."""

    name: str
    trace_id: str
    services: tuple[str, ...]
    since: float


def eventually(probe: Callable[[], T], done: Callable[[T], bool], timeout: float) -> T:
    """Call probe until done(result) or timeout; return the last result.

    Backends take a few seconds to make new data queryable (batching, flush intervals), so a
    check waits for the link instead of failing on the first look.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = probe()
        except HttpError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)
            continue
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(1.0)


def _guard(check: str, subject: str, run: Callable[[], Result]) -> Result:
    try:
        return run()
    except HttpError as error:
        return Result(check, subject, ok=False, detail=str(error))


def trace_in_stores(endpoints: Endpoints, subject: TracedSubject, timeout: float) -> list[Result]:
    """The trace is in Tempo and in Jaeger, with spans from every expected service."""
    expected = set(subject.services)
    results = []
    for store, lookup in (("Tempo", tempo_services), ("Jaeger", jaeger_services)):

        def run(
            store: str = store, lookup: Callable[[Endpoints, str], set[str]] = lookup
        ) -> Result:
            found = eventually(
                lambda: lookup(endpoints, subject.trace_id), lambda s: expected <= s, timeout
            )
            missing = expected - found
            detail = f"services {sorted(found)}" + (
                f"; missing {sorted(missing)}" if missing else ""
            )
            return Result(f"trace in {store}", subject.name, not missing, detail)

        results.append(_guard(f"trace in {store}", subject.name, run))
    return results


def logs_in_loki(endpoints: Endpoints, subject: TracedSubject, timeout: float) -> list[Result]:
    """Loki has log lines carrying the trace_id for every service the trace went through."""
    results = []
    for service in subject.services:

        def run(service: str = service) -> Result:
            lines = eventually(
                lambda: loki_lines(endpoints, service, subject.trace_id, subject.since),
                lambda n: n > 0,
                timeout,
            )
            return Result(
                "logs in Loki by trace_id",
                f"{subject.name} / {service}",
                lines > 0,
                f"{lines} lines",
            )

        results.append(_guard("logs in Loki by trace_id", f"{subject.name} / {service}", run))
    return results


def exemplar_resolves(
    endpoints: Endpoints,
    name: str,
    *,
    selector: str,
    since: float,
    wanted: set[str],
    timeout: float,
) -> Result:
    """Prometheus holds an exemplar on `selector` whose trace_id is in Tempo.

    With `wanted` trace ids, one of those must be among the exemplars (they are ours);
    without, any exemplar will do.
    """
    check = "exemplar -> Tempo"

    def run() -> Result:
        ids = eventually(
            lambda: prometheus_exemplar_trace_ids(endpoints, selector, since),
            lambda found: bool(found & wanted) if wanted else bool(found),
            timeout,
        )
        candidates = (ids & wanted) if wanted else ids
        if not candidates:
            return Result(check, name, ok=False, detail=f"no exemplar on {selector}")
        for trace_id in sorted(candidates):
            if tempo_services(endpoints, trace_id):
                return Result(check, name, ok=True, detail=f"trace {trace_id} found in Tempo")
        return Result(check, name, ok=False, detail=f"{len(candidates)} exemplar(s), none in Tempo")

    return _guard(check, name, run)


def series_exist(endpoints: Endpoints, check: str, name: str, expr: str, timeout: float) -> Result:
    def run() -> Result:
        result = eventually(lambda: prometheus_query(endpoints, expr), bool, timeout)
        return Result(check, name, bool(result), f"{len(result)} series for {expr}")

    return _guard(check, name, run)


def datasource_uids(compose_dir: Path) -> Result:
    """Every datasource UID referenced by provisioning and dashboards is provisioned."""
    known = {source["uid"] for source in datasources(compose_dir)}
    references = list(referenced_uids(datasources(compose_dir), "datasources.yaml"))
    for dashboard_name, dashboard in dashboards(compose_dir).items():
        references += list(referenced_uids(dashboard, dashboard_name))
    dangling = sorted({f"{uid} ({where})" for uid, where in references if uid not in known})
    detail = f"{len(references)} references to {len(known)} datasources"
    return Result(
        "datasource UIDs resolve",
        "Grafana provisioning",
        not dangling,
        detail + (f"; dangling: {', '.join(dangling)}" if dangling else ""),
    )


def dashboard_panels(endpoints: Endpoints, compose_dir: Path) -> list[Result]:
    """Every panel's query returns data from the real backend its datasource points at."""
    results = []
    for query in panel_queries(compose_dir):
        subject = f"{query.dashboard}: {query.panel}"

        def run(
            expr: str = query.expr, uid: str = query.datasource_uid, subject: str = subject
        ) -> Result:
            if uid == "prometheus":
                has_data = bool(prometheus_query(endpoints, expr))
            elif uid == "loki":
                has_data = loki_query_has_data(endpoints, expr)
            else:
                return Result("panel returns data", subject, ok=False, detail=f"unchecked {uid}")
            return Result("panel returns data", subject, has_data, "" if has_data else expr)

        results.append(_guard("panel returns data", subject, run))
    return results


def alert_reaches_webhook(endpoints: Endpoints, timeout: float) -> Result:
    """An alert posted to Alertmanager is routed by severity and reaches the webhook recorder."""
    check, subject = "alert -> Alertmanager -> webhook", "severity=page route"
    marker = secrets.token_hex(6)
    now = datetime.now(UTC)
    alert = {
        "labels": {
            "alertname": "ThreadlineVerifyProbe",
            "severity": "page",
            "service": "verify",
            "slo": "probe",
            "verify_id": marker,
        },
        "annotations": {"summary": "Posted by make verify; resolves by itself in a minute."},
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(minutes=1)).isoformat(),
    }

    def run() -> Result:
        status, body = request("POST", f"{endpoints.alertmanager}/api/v2/alerts", body=[alert])
        if status != 200:
            return Result(
                check, subject, ok=False, detail=f"Alertmanager answered {status}: {body}"
            )

        def received() -> list[str]:
            entries = get_json(f"{endpoints.alert_recorder}/alerts")
            return [
                entry["receiver"]
                for entry in entries
                for fired in entry["payload"].get("alerts", [])
                if fired.get("labels", {}).get("verify_id") == marker
            ]

        receivers = eventually(received, bool, timeout)
        ok = receivers[:1] == ["page"]
        detail = f"received by {receivers[0]!r}" if receivers else "never reached the recorder"
        return Result(check, subject, ok, detail)

    return _guard(check, subject, run)
