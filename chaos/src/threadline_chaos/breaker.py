"""Probes that prove what order's circuit breaker on the user service did during a drill.

`breaker_refused_fast` runs while the fault still holds, `await_breaker_closed` right after it
is undone. Both fail the activity (and so the verdict) with the numbers when the breaker did
not do its job.

Which figure is honest for "CreateOrder fails fast while the breaker is open": the calls made
while it is open are exactly the calls it refuses (`circuit_breaker_rejections_total`; in
half-open it refuses all but the one trial call too). The server's latency histogram cannot
tell those apart from the calls that went to the user service and timed out: both end
UNAVAILABLE, and the p99 of that mix is the timeouts'. Under the fault, though, a call that
reaches the user service fails only after its attempts: 500 ms each when the answer is late
(the attempt timeout), or their retry back-offs (50 ms, then 100 ms or more) when the
connection is reset. So every CreateOrder or CancelOrder that ended UNAVAILABLE within 50 ms
was a refusal. "p99 of the refused calls under 50 ms" is
then: the histogram's UNAVAILABLE calls in the le="0.05" bucket are at least 99% of the
refusals the breaker counted. Both are raw counter deltas of one scrape target, so they share
their sample times (no `increase()` extrapolation).

The client's view is kept beside it, not judged: the refused CreateOrders as Locust saw them
(its failed requests whose error says the circuit is open, with their response times). Those
times include the load generator's own scheduling on the same shared two-core machine, so they
say what a caller waited, not how fast the service refused.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration

from threadline_chaos import checks, run_dir
from threadline_chaos.admin_metrics import AdminMetricsError, read_sample
from threadline_chaos.endpoints import endpoint
from threadline_chaos.prometheus import PrometheusError, query, single_value
from threadline_loadtests.failures import FailedRequest, read_failures
from threadline_loadtests.runner import FAILURES_JSONL

__all__ = ["await_breaker_closed", "breaker_refused_fast"]

SERVICE = "order"
DEFAULT_BREAKER = "user-service"
# The RPCs that ask the user service first (service_layer/orders.py: ensure_active).
CHECKED_METHODS = ("CreateOrder", "CancelOrder")
CLOSED = 0.0
POLL_SECONDS = 0.25
# How a refusal reads to the client (domain/errors.py DependencyUnavailableError's message).
REFUSAL_TEXT = "circuit open"

Query = Callable[[str], float | None]


def delta_expr(selector: str, window_s: int) -> str:
    """How much the summed counter selector grew over the last window_s (0 when absent)."""
    return f"(sum({selector}) or vector(0)) - (sum({selector} offset {window_s}s) or vector(0))"


@dataclass(frozen=True)
class BreakerFigures:
    """What the breaker and the checked RPCs did over the window (counter deltas)."""

    window_s: int
    openings: float  # transitions to open
    refused: float  # calls the breaker refused
    unavailable: float  # checked RPCs that ended UNAVAILABLE
    unavailable_fast: float  # of which within the fast bound
    fast_bound_s: float
    retries: float  # order's retried requests to the user service
    create_order_p99_s: float | None  # every CreateOrder of the window, from the histogram

    @property
    def refused_fast_share(self) -> float | None:
        """Share of the refused calls that ended within the bound (capped at 1)."""
        if self.refused <= 0:
            return None
        return min(self.unavailable_fast / self.refused, 1.0)


def expressions(*, window_s: int, breaker: str, fast_bound_s: float) -> dict[str, str]:
    """The PromQL behind each figure."""
    breaker_sel = f'service="{SERVICE}",breaker="{breaker}"'
    rpc_sel = (
        f'service="{SERVICE}",grpc_method=~"{"|".join(CHECKED_METHODS)}",grpc_code="Unavailable"'
    )
    return {
        "openings": delta_expr(
            f'circuit_breaker_transitions_total{{{breaker_sel},state="open"}}', window_s
        ),
        "refused": delta_expr(f"circuit_breaker_rejections_total{{{breaker_sel}}}", window_s),
        "unavailable": delta_expr(f"grpc_server_handling_seconds_count{{{rpc_sel}}}", window_s),
        "unavailable_fast": delta_expr(
            f'grpc_server_handling_seconds_bucket{{{rpc_sel},le="{fast_bound_s!r}"}}', window_s
        ),
        "retries": delta_expr(
            f'http_client_retries_total{{service="{SERVICE}",peer="{breaker}"}}', window_s
        ),
        "create_order_p99_s": (
            "histogram_quantile(0.99, sum by (le) (rate(grpc_server_handling_seconds_bucket"
            f'{{service="{SERVICE}",grpc_method="CreateOrder"}}[{window_s}s])))'
        ),
    }


def measure(ask: Query, *, window_s: int, breaker: str, fast_bound_s: float) -> BreakerFigures:
    """The figures, each from one query through ask."""
    exprs = expressions(window_s=window_s, breaker=breaker, fast_bound_s=fast_bound_s)
    values = {name: ask(expression) for name, expression in exprs.items()}
    return BreakerFigures(
        window_s=window_s,
        openings=values["openings"] or 0.0,
        refused=values["refused"] or 0.0,
        unavailable=values["unavailable"] or 0.0,
        unavailable_fast=values["unavailable_fast"] or 0.0,
        fast_bound_s=fast_bound_s,
        retries=values["retries"] or 0.0,
        create_order_p99_s=values["create_order_p99_s"],
    )


def problems(
    figures: BreakerFigures,
    *,
    share: float,
    min_refused: int,
    max_create_order_p99_s: float | None = None,
) -> list[str]:
    """What the breaker failed to do, one sentence each with the numbers (empty: it did)."""
    found: list[str] = []
    window = f"in the last {figures.window_s} s"
    if figures.openings < 1:
        found.append(f"the breaker never opened {window}")
    if figures.refused < min_refused:
        found.append(
            f"the breaker refused {figures.refused:.0f} calls {window}, fewer than "
            f"{min_refused}: too few to judge how fast they failed"
        )
    fast_share = figures.refused_fast_share
    if fast_share is not None and figures.refused >= min_refused and fast_share < share:
        found.append(
            f"only {figures.unavailable_fast:.0f} of {figures.refused:.0f} refused calls "
            f"({fast_share:.1%}) ended within {figures.fast_bound_s * 1000:.0f} ms: their "
            f"p{share * 100:g} is over {figures.fast_bound_s * 1000:.0f} ms"
        )
    p99 = figures.create_order_p99_s
    if max_create_order_p99_s is not None and (p99 is None or p99 > max_create_order_p99_s):
        shown = "unknown (no CreateOrder calls)" if p99 is None else f"{p99 * 1000:.0f} ms"
        found.append(
            f"CreateOrder p99 {window} was {shown}, over {max_create_order_p99_s * 1000:.0f} ms"
        )
    return found


def nearest_rank(values: list[float], quantile: float) -> float | None:
    """The quantile of values by nearest rank (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(quantile * len(ordered)) - 1, 0)]


def client_refusals(
    failures: list[FailedRequest], *, since: float, until: float
) -> dict[str, float | int | None]:
    """The CreateOrders the client saw refused by the breaker between since and until."""
    times = [
        f.response_time_ms
        for f in failures
        if since <= f.at <= until
        and f.name.endswith("CreateOrder")
        and REFUSAL_TEXT in f.error
        and f.response_time_ms is not None
    ]
    return {
        "count": len(times),
        "p50_ms": nearest_rank(times, 0.5),
        "p99_ms": nearest_rank(times, 0.99),
    }


def breaker_refused_fast(
    *,
    window_seconds: int,
    breaker: str = DEFAULT_BREAKER,
    fast_bound_seconds: float = 0.05,
    share: float = 0.99,
    min_refused: int = 10,
    max_create_order_p99_seconds: float | None = None,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """The breaker opened and the calls it refused ended within fast_bound_seconds (p99).

    Run while the fault still holds; window_seconds is how long it has held.
    """
    url = endpoint(configuration, "prometheus_url")

    def ask(expression: str) -> float | None:
        return single_value(query(url, expression))

    try:
        figures = measure(
            ask, window_s=window_seconds, breaker=breaker, fast_bound_s=fast_bound_seconds
        )
    except PrometheusError as error:
        raise ActivityFailed(f"cannot measure the breaker: {error}") from error
    now = time.time()
    failures = read_failures(run_dir.current() / run_dir.LOAD_DIR / FAILURES_JSONL)
    result: dict[str, Any] = {
        **asdict(figures),
        "refused_fast_share": figures.refused_fast_share,
        "client_refused_create_order": client_refusals(
            failures, since=now - window_seconds, until=now
        ),
    }
    found = problems(
        figures,
        share=share,
        min_refused=min_refused,
        max_create_order_p99_s=max_create_order_p99_seconds,
    )
    result["problems"] = found
    run_dir.write_json("breaker.json", result)
    checks.record(
        checks.MethodCheck(
            name="breaker-refused-fast",
            held=not found,
            summary="; ".join(found) or _held_summary(figures),
            observations=_observations(figures, result["client_refused_create_order"]),
        )
    )
    if found:
        raise ActivityFailed("; ".join(found))
    return result


def _held_summary(figures: BreakerFigures) -> str:
    bound = f"{figures.fast_bound_s * 1000:.0f} ms"
    return (
        f"the breaker opened {figures.openings:.0f} times in {figures.window_s} s and refused "
        f"{figures.refused:.0f} calls, {figures.refused_fast_share or 0:.1%} of them within {bound}"
    )


def _ms(seconds: float | None) -> str:
    return "none" if seconds is None else f"{seconds * 1000:.0f} ms"


def _observations(
    figures: BreakerFigures, client: dict[str, float | int | None]
) -> tuple[tuple[str, str], ...]:
    bound = f"{figures.fast_bound_s * 1000:.0f} ms"
    share = figures.refused_fast_share
    client_p50, client_p99 = client["p50_ms"], client["p99_ms"]
    return (
        ("window (s)", f"{figures.window_s}"),
        ("transitions to open", f"{figures.openings:.0f}"),
        ("calls refused (circuit_breaker_rejections_total)", f"{figures.refused:.0f}"),
        (
            f"CreateOrder/CancelOrder UNAVAILABLE within {bound} (histogram)",
            f"{figures.unavailable_fast:.0f}"
            + ("" if share is None else f" ({share:.1%} of the refused)"),
        ),
        ("CreateOrder/CancelOrder UNAVAILABLE in all", f"{figures.unavailable:.0f}"),
        ("retried requests to the user service", f"{figures.retries:.0f}"),
        ("CreateOrder p99, every call (histogram)", _ms(figures.create_order_p99_s)),
        (
            "refused CreateOrders seen by Locust (not judged)",
            f"{client['count']}, p50 {client_p50 if client_p50 is not None else '-'} ms, "
            f"p99 {client_p99 if client_p99 is not None else '-'} ms",
        ),
    )


def await_breaker_closed(
    *,
    bound_seconds: float,
    breaker: str = DEFAULT_BREAKER,
    admin_url: str | None = None,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Wait until the breaker is closed again (its gauge on order's admin port reads 0).

    Call it right after the fault is undone: the time is from then. An open breaker closes on
    the first trial call that succeeds once its reset time has passed, so this measures that
    wait plus the trial, to within POLL_SECONDS.
    """
    began = time.monotonic()
    state: float | None = None
    error = ""
    while True:
        try:
            state = read_sample(
                SERVICE, "circuit_breaker_state", {"breaker": breaker}, url=admin_url
            )
            error = ""
        except AdminMetricsError as failure:
            error = str(failure)
        elapsed = time.monotonic() - began
        if state == CLOSED:
            result = {"closed_after_s": round(elapsed, 2), "bound_seconds": bound_seconds}
            run_dir.write_json("breaker-closed.json", result)
            checks.record(
                checks.MethodCheck(
                    name="breaker-closed",
                    held=True,
                    summary=f"breaker {breaker} closed {elapsed:.1f} s after the fault was undone",
                    observations=(("closed after (s)", f"{elapsed:.2f}"),),
                )
            )
            return result
        if elapsed >= bound_seconds:
            seen = (
                f"state {state:g} (0 closed, 1 half-open, 2 open)" if state is not None else error
            )
            summary = (
                f"breaker {breaker} not closed {bound_seconds:.0f} s after the fault: "
                f"{seen or 'no such breaker on the admin port'}"
            )
            checks.record(checks.MethodCheck(name="breaker-closed", held=False, summary=summary))
            raise ActivityFailed(summary)
        time.sleep(POLL_SECONDS)
