"""What one drill run measured: the record the runner fills and the verdict and report read.

The runner (Chaos Toolkit's journal plus the drill's own measurements) builds a `DrillRun`;
`threadline_chaos.verdict.verdict` judges it, `threadline_chaos.report.write_report` writes it
under reports/chaos/<drill>/<timestamp>/. Times are timezone-aware UTC datetimes throughout.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from threadline_chaos.checks import MethodCheck


class DrillStatus(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    # Halted by a guard (a stop condition tripped) or never started its fault: proves nothing.
    ABORTED = "aborted"


class StackMode(enum.StrEnum):
    NATIVE = "native"
    COMPOSE = "compose"


def utc_from_epoch(seconds: float) -> datetime:
    """A UTC datetime from Unix seconds (Prometheus and the alert recorder speak these)."""
    return datetime.fromtimestamp(seconds, tz=UTC)


@dataclass(frozen=True)
class TimeWindow:
    """From start to end, both inclusive; the fault window is shaded on the chart."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment <= self.end


@dataclass(frozen=True)
class SteadyStateCheck:
    """One probe of the steady-state hypothesis: what it measured and whether it held."""

    name: str
    held: bool
    checked_at: datetime
    value: float | None = None  # None when the probe had nothing to measure (no traffic)
    tolerance: str = ""  # as the experiment states it, e.g. "<= 0.01"


@dataclass(frozen=True)
class AlertExpectation:
    """An alert the drill expects to fire (or, with must_fire False, to stay silent)."""

    alertname: str
    must_fire: bool = True
    # Seconds after the fault starts by which it must have fired; None: any time during the run.
    fire_within_s: float | None = None
    # Seconds after the fault ends by which it must have resolved; None: need not resolve.
    resolve_within_s: float | None = None


@dataclass(frozen=True)
class AlertEvent:
    """One alert in one Alertmanager notification, as the webhook recorder saw it."""

    alertname: str
    status: str  # "firing" or "resolved"
    received_at: datetime  # when the recorder got the notification
    starts_at: datetime | None  # when Prometheus says the alert began
    ends_at: datetime | None  # when it resolved (resolved notifications only)
    receiver: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def firing(self) -> bool:
        return self.status == "firing"


@dataclass(frozen=True)
class Reconciliation:
    """The business data after the drill: orders database vs orders.v1 vs user statistics.

    Counts are over all data (not just the drill's), taken once the pipeline was quiet or the
    wait ran out; `problems` are inconsistencies (each one sentence naming ids and numbers),
    `in_flight` what was still moving when the wait ran out.
    """

    orders_in_database: int  # rows of orders
    live_orders_in_database: int  # of which not cancelled
    orders_on_topic: int  # distinct order ids among order-created events on orders.v1
    events_on_topic: int  # distinct event ids on orders.v1
    redelivered_records_on_topic: int  # records repeating an event id (at least once: allowed)
    dead_lettered_records: int  # records on the dead-letter topic
    events_in_inbox: int  # rows of the user service's inbox
    orders_in_user_stats: int  # sum of the users' order_count: cancellations subtract
    cents_in_user_stats: int  # sum of the users' total_spent_cents
    live_cents_in_database: int  # sum of total_minor of the orders not cancelled
    unpublished_outbox_rows: int  # outbox rows left after the wait
    waited_s: float  # how long reconciliation waited for the pipeline to go quiet
    problems: tuple[str, ...] = ()
    in_flight: tuple[str, ...] = ()

    @property
    def consistent(self) -> bool:
        return not self.problems


@dataclass
class DrillRun:
    """One run of one drill, filled by the runner as the drill goes."""

    drill: str
    hypothesis: str
    mode: StackMode
    started_at: datetime
    ended_at: datetime | None = None
    fault_window: TimeWindow | None = None
    # Why a guard halted the drill (a stop condition, a failed start); None when it ran through.
    aborted_because: str | None = None
    steady_state_before: list[SteadyStateCheck] = field(default_factory=list)
    steady_state_after: list[SteadyStateCheck] = field(default_factory=list)
    # Seconds from the end of the fault until the steady state held again (None: never).
    time_to_recover_s: float | None = None
    recovery_bound_s: float = 60.0
    alert_expectations: list[AlertExpectation] = field(default_factory=list)
    alerts: list[AlertEvent] = field(default_factory=list)
    reconciliation: Reconciliation | None = None
    # Drills that create no orders may skip reconciliation; the verdict then ignores it.
    reconciliation_required: bool = True
    # What the method's own probes checked (in-flight calls at SIGTERM, clean refusals...).
    method_checks: list[MethodCheck] = field(default_factory=list)
    failed_trace_ids: list[str] = field(default_factory=list)
    failed_requests: int = 0  # may exceed len(failed_trace_ids) (only traced ones have an id)
    journal_path: Path | None = None
    # The run's directory, reports/chaos/<drill>/<UTC timestamp>/, made by the runner before the
    # drill starts: the journal, the load's Locust files and the report all go there.
    report_dir: Path | None = None
    # Set by `verdict` (the runner stores its answer here before writing the report).
    status: DrillStatus | None = None
    reasons: list[str] = field(default_factory=list)
