"""SLO rules: every recording and alerting rule evaluates, and the recording rules have data.

Prometheus reports each rule's last evaluation (`/api/v1/rules`): health "ok" means the
expression ran. A healthy recording rule may still record nothing (a selector that matches no
series, a label that changed); after the journeys, every SLI and budget series must exist.
"""

from __future__ import annotations

from itertools import groupby

from threadline_native.verify import prometheus
from threadline_native.verify.endpoints import Endpoints
from threadline_native.verify.http import HttpError
from threadline_native.verify.prometheus import Rule
from threadline_native.verify.result import Result, eventually, guarded


def rules_evaluate(endpoints: Endpoints) -> Result:
    check, subject = "SLO rules evaluate", "Prometheus /api/v1/rules"

    def run() -> Result:
        loaded = prometheus.rules(endpoints)
        unhealthy = [r for r in loaded if r.health != "ok"]
        kinds = {kind: sum(r.kind == kind for r in loaded) for kind in ("recording", "alerting")}
        detail = f"{kinds['recording']} recording, {kinds['alerting']} alerting rules"
        if unhealthy:
            detail += "; unhealthy: " + "; ".join(
                f"{r.selector} {r.health} {r.last_error}" for r in unhealthy
            )
        return Result.judged(check, subject, bool(loaded) and not unhealthy, detail)

    return guarded(check, subject, run)


def _empty(endpoints: Endpoints, rules: list[Rule]) -> list[str]:
    return [r.selector for r in rules if not prometheus.instant(endpoints, r.selector)]


def recording_rules_have_data(endpoints: Endpoints, timeout: float) -> list[Result]:
    """Per rule group: every recording rule's series returns data."""
    check = "SLO recording rules return data"
    try:
        recording = [r for r in prometheus.rules(endpoints) if r.kind == "recording"]
    except HttpError as error:
        return [Result.judged(check, "Prometheus /api/v1/rules", False, str(error))]
    results = []
    for group, members in groupby(recording, key=lambda r: r.group):
        rules = list(members)

        def run(group: str = group, rules: list[Rule] = rules) -> Result:
            empty = eventually(lambda: _empty(endpoints, rules), lambda e: not e, timeout)
            detail = f"{len(rules) - len(empty)}/{len(rules)} series"
            return Result.judged(
                check, group, not empty, detail + (f"; empty: {', '.join(empty)}" if empty else "")
            )

        results.append(guarded(check, group, run))
    return results
