"""Sections of the load benchmark's page: CPU per request, the floor's own parts, how to
reproduce each page."""

from __future__ import annotations

from threadline_benchmarks.load.steps import Step
from threadline_loadtests.cpu_window import LOAD_GENERATOR

__all__ = [
    "CORES",
    "GOAL_RPS",
    "cpu_section",
    "floor_intro",
    "floor_left_at_goal",
    "floor_reproduce",
    "reproduce",
]

# The bar, on this project's reference machine: 800 requests/s on 2 cores.
GOAL_RPS = 800
CORES = 2


def _system_ms(step: Step) -> float:
    return sum(ms for name, ms in step.cpu_ms_per_request.items() if name != LOAD_GENERATOR)


def cpu_section(steps: list[Step], best: Step | None) -> list[str]:
    """CPU per request by component: the figure the neighbours on a shared machine cannot move."""
    measured = [step for step in steps if step.cpu_ms_per_request]
    if not measured:
        return []
    # Background work (Kafka, the outbox relay's polling, exporters) is spread over fewer
    # requests at low rates: the busiest step is the closest to what one more request costs.
    reference = max(measured, key=lambda step: step.mixed.rps if step.mixed else 0.0)
    system_ms = _system_ms(reference)
    lines = [
        f"## CPU per request ({reference.target_rps:.0f} req/s offered, the busiest step)",
        "",
        "CPU time (user + system) each component used over the step's measured stretch (from",
        "the moment every user ran to the moment Locust started stopping), divided by the",
        "requests Locust sent in that time. The load generator's is its own process's CPU time,",
        "every thread included; the others' are found by their ports (PostgreSQL and Redis by",
        "process name). The data stores also served other work on this shared machine during",
        "the step, so their share is an upper bound. Background work is spread over fewer",
        "requests at low rates, so the figure falls as the load rises.",
        "",
        "| component | CPU ms / request |",
        "|---|---:|",
        *(
            f"| {name} | {ms:.2f} |"
            for name, ms in sorted(reference.cpu_ms_per_request.items(), key=lambda kv: -kv[1])
        ),
        f"| **system (all but the load generator)** | **{system_ms:.2f}** |",
        "",
    ]
    if system_ms > 0:
        generator_ms = reference.cpu_ms_per_request.get(LOAD_GENERATOR, 0.0)
        # The generator shares the two cores: at the goal it takes its part of them first.
        budget_ms = (CORES * 1000 - GOAL_RPS * generator_ms) / GOAL_RPS
        lines += [
            f"At {system_ms:.2f} ms of CPU per request, the two cores less the load generator's "
            f"{generator_ms:.2f} ms would serve at most about "
            f"{CORES * 1000 / (system_ms + generator_ms):.0f} requests/s of this mix before any "
            f"queueing. The goal of {GOAL_RPS} requests/s leaves the system at most "
            f"{budget_ms:.2f} ms per request (2.5 ms less the generator's share).",
            "",
        ]
    lines += [
        "| offered req/s | system CPU ms / request | load generator CPU ms / request |",
        "|---:|---:|---:|",
        *(
            f"| {step.target_rps:.0f} | {_system_ms(step):.2f} | "
            f"{step.cpu_ms_per_request.get(LOAD_GENERATOR, 0.0):.2f} |"
            for step in measured
        ),
        "",
    ]
    return lines


def reproduce() -> list[str]:
    return [
        "## Reproduce",
        "",
        "```console",
        "make up      # the full stack",
        "make bench   # about 10 minutes; rewrites this page and docs/benchmarks/load/",
        "python -m threadline_loadtests generator-cost   # the generator alone, by user class",
        "```",
        "",
        "What the load generator costs per request of each user class, against stub services, is "
        "in [load/generator.md](load/generator.md). What the two services' frameworks and the "
        "load generator cost with nothing behind them, the floor under every figure above, is in "
        "[floor.md](floor.md).",
        "",
        "Per-step Locust reports (HTML, CSV, charts, verdicts) are under `reports/bench/`.",
        "",
    ]


def floor_intro() -> list[str]:
    return [
        "# Load benchmark: the frameworks alone (the floor)",
        "",
        "Written by `make bench-floor` (`python -m threadline_benchmarks floor`); one measured "
        "run, not a target. The same steps, journeys and verdict as `make bench` "
        "([load.md](load.md)), against the two services' frameworks with nothing behind them "
        "(`threadline_benchmarks.load.floor_services`): FastAPI under uvicorn on the user API's "
        "port and grpc.aio on the order service's, both on uvloop as the services run, answering "
        "fixed data; CreateOrder still checks the account over HTTP with httpx. No database, "
        "cache, event log, telemetry, authentication or validation. The rows named "
        "*user service* and *order service* below are these two processes.",
        "",
        "What the real services may spend per request is what this page's CPU figures leave of "
        f"two cores: at {GOAL_RPS} requests/s, {CORES * 1000 / GOAL_RPS:.1f} ms per request in "
        "all.",
        "",
    ]


def floor_left_at_goal(steps: list[Step]) -> list[str]:
    """What the frameworks and the generator leave of two cores at the goal's load."""
    at_goal = [step for step in steps if step.target_rps == GOAL_RPS and step.cpu_ms_per_request]
    if not at_goal:
        return []
    step = at_goal[0]
    generator_ms = step.cpu_ms_per_request.get(LOAD_GENERATOR, 0.0)
    frameworks_ms = _system_ms(step)
    left_ms = CORES * 1000 / GOAL_RPS - generator_ms - frameworks_ms
    return [
        f"**Left at the goal.** At {GOAL_RPS} requests/s offered, the load generator took "
        f"{generator_ms:.2f} ms and the two frameworks {frameworks_ms:.2f} ms of CPU per "
        f"request: {left_ms:.2f} ms of the {CORES * 1000 / GOAL_RPS:.1f} ms two cores allow "
        "are left for everything the real services do beyond their frameworks, with the "
        "data stores, Kafka and the observability backends they use.",
        "",
    ]


def floor_reproduce() -> list[str]:
    return [
        "## Reproduce",
        "",
        "```console",
        "make down         # the floor needs the services' ports (the CPU accounting finds "
        "components by port)",
        "make bench-floor  # about 10 minutes; rewrites this page and docs/benchmarks/floor/",
        "```",
        "",
        "Per-step Locust reports (HTML, CSV, charts, verdicts) are under `reports/bench-floor/`.",
        "",
    ]
