"""The drill control: bounded load through the whole run, and every fault mended at its end.

Declared once per experiment:

    controls:
      - name: threadline-drill
        provider:
          type: python
          module: threadline_chaos.controls.drill
          arguments: {users: 10, user_rps: 2, max_seconds: 180, warmup_seconds: 20}

Before the steady-state hypothesis it starts Locust (the project's journeys) and waits until
Prometheus sees traffic of both services, so the baseline is judged under load. After the run,
whatever ended it (completion, a failed probe, a tripped guard, Ctrl-C, SIGTERM, an exception),
it mends everything (threadline_chaos.mend) and stops the load. Chaos Toolkit calls
after_experiment_control even when rollbacks were cut short, which makes it the last line.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from chaoslib.exceptions import InterruptExecution
from chaoslib.types import Configuration

from threadline_chaos import load, run_dir
from threadline_chaos.endpoints import endpoint
from threadline_chaos.mend import mend_everything
from threadline_chaos.prometheus import PrometheusError, query

__all__ = ["after_experiment_control", "before_experiment_control"]

logger = logging.getLogger("chaostoolkit")
TRAFFIC_QUERY = (
    "sum by (service) (rate({__name__=~"
    '"http_server_request_duration_seconds_count|grpc_server_handling_seconds_count",'
    'service=~"user|order"}[15s]))'
)

_load: load.LoadRun | None = None


def before_experiment_control(
    context: Any,
    *,
    configuration: Configuration = None,
    users: int = 10,
    user_rps: float = 2.0,
    max_seconds: int = 180,
    warmup_seconds: int = 20,
    **_: Any,
) -> None:
    """Start the load and wait until both services show traffic (at most warmup_seconds + 60)."""
    global _load  # noqa: PLW0603 - one run per process; the after-control must find it
    if users <= 0:
        return
    try:
        _load = load.start(
            out_dir=run_dir.current() / run_dir.LOAD_DIR,
            users=users,
            user_rps=user_rps,
            run_seconds=max_seconds,
        )
    except Exception as error:
        raise InterruptExecution(
            f"load could not start ({error}); is the stack up? `make up`"
        ) from error
    logger.info("Load: %d Locust users at %g req/s each, at most %ds", users, user_rps, max_seconds)
    _wait_for_traffic(endpoint(configuration, "prometheus_url"), warmup_seconds)


def _wait_for_traffic(prometheus_url: str, warmup_seconds: int) -> None:
    began = time.monotonic()
    while True:
        try:
            seen = {
                s.labels.get("service") for s in query(prometheus_url, TRAFFIC_QUERY) if s.value > 0
            }
        except PrometheusError:
            seen = set()
        waited = time.monotonic() - began
        if {"user", "order"} <= seen and waited >= warmup_seconds:
            logger.info("Load: both services under traffic after %.0fs", waited)
            return
        if waited > warmup_seconds + 60:
            raise InterruptExecution(f"no traffic seen in Prometheus after {waited:.0f}s of load")
        if _load is not None and _load.process.poll() is not None:
            raise InterruptExecution(
                f"Locust exited early (code {_load.process.returncode}); see {_load.log}"
            )
        time.sleep(1.0)


def after_experiment_control(
    context: Any, *, state: Any = None, configuration: Configuration = None, **_: Any
) -> None:
    """Mend every fault, then stop the load; both written to the run directory."""
    global _load  # noqa: PLW0603
    mended = mend_everything(configuration=configuration)
    run_dir.write_json("mended.json", mended)
    if mended["problems"]:
        logger.error("Clean-up could not undo everything: %s", "; ".join(mended["problems"]))
    if _load is not None:
        code = load.stop(_load)
        run_dir.write_json("load.json", {"exit_code": code, "out_dir": str(_load.out_dir)})
        _load = None
