"""Everything one Locust environment's run shares: tracer, test data, journeys, slowest requests."""

from __future__ import annotations

import secrets
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from locust.env import Environment
from locust.stats import RequestStats

from threadline_loadtests.accounts import (
    AccountPool,
    load_accounts,
    prepare_accounts,
    user_service_login,
)
from threadline_loadtests.cpu_window import CpuWindow
from threadline_loadtests.failures import FailureLog
from threadline_loadtests.options import LoadOptions
from threadline_loadtests.slowest import SlowestRequests
from threadline_loadtests.tracing import LoadTracer

__all__ = ["JOURNEY_METHOD", "LoadSession", "RequestContext", "attach", "session_of"]

# Journey statistics are Locust StatsEntry objects too, so their percentiles are computed
# exactly as Locust computes the per-request ones; this is their (constant) "method".
JOURNEY_METHOD = "journey"


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What each request tells the statistics besides Locust's own figures."""

    journey: str
    trace_id: str
    sampled: bool

    def as_locust_context(self) -> dict[str, Any]:
        return {"journey": self.journey, "trace_id": self.trace_id, "sampled": self.sampled}


@dataclass
class LoadSession:
    options: LoadOptions
    tracer: LoadTracer
    slowest: SlowestRequests
    # A short id in every prepared email, so one run's accounts are easy to tell apart.
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    journeys: RequestStats = field(
        default_factory=lambda: RequestStats(use_response_times_cache=False)
    )
    accounts: AccountPool | None = None
    peak_users: int = 0
    # The load generator's own CPU use (Locust samples it every 5 s): a saturated generator
    # queues its own requests, and its latencies stop being the system's.
    cpu_percent_samples: list[float] = field(default_factory=list)
    # CPU per request over the measured stretch of the run (from the last reset to stopping).
    cpu: CpuWindow = field(default_factory=CpuWindow)
    # Each failed request with its trace id (--failures-file); None: not recorded.
    failures: FailureLog | None = None

    @classmethod
    def create(cls, options: LoadOptions) -> LoadSession:
        return cls(
            options=options,
            tracer=LoadTracer(
                sample_ratio=options.trace_sample_ratio,
                otlp_endpoint=options.otlp_endpoint or None,
            ),
            slowest=SlowestRequests(options.slowest_per_name),
            cpu=CpuWindow(
                marks_file=Path(options.cpu_marks_file) if options.cpu_marks_file else None
            ),
            failures=FailureLog(Path(options.failures_file)) if options.failures_file else None,
        )

    def prepare(self, *, host: str) -> None:
        """The shared accounts: from the driver's file, or registered and logged in now."""
        accounts = (
            load_accounts(Path(self.options.accounts_file))
            if self.options.accounts_file
            else prepare_accounts(
                base_url=host, run_id=self.run_id, count=self.options.accounts, tracer=self.tracer
            )
        )
        self.accounts = AccountPool(accounts, login=user_service_login(host, self.tracer))

    def account_pool(self) -> AccountPool:
        if self.accounts is None:
            raise RuntimeError("the accounts are prepared on test start; no test has started")
        return self.accounts

    def on_request(
        self,
        *,
        name: str,
        response_time: float | None,
        response_length: int | None,
        exception: BaseException | str | None,
        context: dict[str, Any] | None,
        **_: Any,
    ) -> None:
        """Locust `request` listener: journey statistics and the slowest requests' trace ids."""
        journey = (context or {}).get("journey")
        if journey is None or response_time is None:
            return  # not one of our requests (or an async one without a duration)
        self.journeys.log_request(
            JOURNEY_METHOD, journey, round(response_time), response_length or 0
        )
        if exception is not None:
            error = exception if isinstance(exception, Exception | str) else repr(exception)
            self.journeys.log_error(JOURNEY_METHOD, journey, error)
        assert context is not None
        if exception is not None and self.failures is not None:
            self.failures.record(
                name=name,
                trace_id=str(context["trace_id"]),
                sampled=bool(context["sampled"]),
                error=exception,
                response_time_ms=response_time,
            )
        self.slowest.record(
            name,
            response_time,
            trace_id=str(context["trace_id"]),
            sampled=bool(context["sampled"]),
            failed=exception is not None,
        )

    def on_usage(self, *, cpu_usage: float, **_: Any) -> None:
        """Locust `usage_monitor` listener."""
        self.cpu_percent_samples.append(float(cpu_usage))

    def reset(self) -> None:
        """Forget the figures so far (when Locust resets its statistics): measure from now."""
        self.journeys.reset_all()
        self.slowest.reset()
        self.cpu_percent_samples.clear()
        self.cpu.open()

    def stopping(self, *, requests: int) -> None:
        """The measured stretch ends: `requests` were sent within it."""
        self.cpu.close(requests=requests)


_sessions: weakref.WeakKeyDictionary[Environment, LoadSession] = weakref.WeakKeyDictionary()


def attach(environment: Environment, session: LoadSession) -> None:
    _sessions[environment] = session


def session_of(environment: Environment) -> LoadSession:
    try:
        return _sessions[environment]
    except KeyError:
        raise RuntimeError(
            "no load session for this environment: run Locust with loadtests' locustfile"
        ) from None
