"""A game day: a seeded random schedule of faults under steady load, as one Chaos Toolkit run.

The schedule is data: `schedule(seed)` picks faults and their timing with `random.Random(seed)`,
so the same seed always gives the same game day, and `experiment(seed)` writes it out as an
experiment (chaos/gameday/base.yaml with the method and rollbacks filled in), run and judged
like any drill.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from threadline_native.paths import find_project_root

IDLE = {"type": "python", "module": "chaosaddons.utils.idle", "func": "idle_for"}
PROCESS = "threadline_chaos.process_faults"
NETWORK = "threadline_chaos.network_faults"
FLAGS = "threadline_chaos.flag_faults"


def _action(title: str, module: str, func: str, **arguments: Any) -> dict[str, Any]:
    provider = {"type": "python", "module": module, "func": func, "arguments": arguments}
    return {"type": "action", "name": title, "provider": provider}


def _toxic(proxy: str, toxic_type: str, **attributes: int) -> tuple[dict[str, Any], dict[str, Any]]:
    name = f"gameday-{toxic_type}"
    inject = _action(
        f"{toxic_type}-on-{proxy}",
        NETWORK,
        "add_toxic",
        proxy=proxy,
        toxic_type=toxic_type,
        attributes=attributes,
        name=name,
    )
    undo = _action(f"no-{toxic_type}-on-{proxy}", NETWORK, "remove_toxic", proxy=proxy, name=name)
    return inject, undo


# Each fault: (the action that injects it, the action that undoes it).
FAULTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "kill-user": (
        _action("kill-user", PROCESS, "signal_component", component="user", signal="SIGKILL"),
        _action("start-user", PROCESS, "start_component", component="user"),
    ),
    "terminate-order": (
        _action(
            "terminate-order", PROCESS, "signal_component", component="order", signal="SIGTERM"
        ),
        _action("start-order", PROCESS, "start_component", component="order"),
    ),
    "pause-relay": (
        _action("pause-relay", PROCESS, "pause_component", component="order-relay"),
        _action("resume-relay", PROCESS, "resume_component", component="order-relay"),
    ),
    "stop-redis": (
        _action("stop-redis", PROCESS, "stop_component", component="redis"),
        _action("start-redis", PROCESS, "start_component", component="redis"),
    ),
    "latency-order-user": _toxic("order-user", "latency", latency=300, jitter=100),
    "reset-user-redis": _toxic("user-redis", "reset_peer", timeout=0),
    "bandwidth-order-kafka": _toxic("order-kafka", "bandwidth", rate=16),
    "errors-create-order": (
        _action(
            "errors-create-order",
            FLAGS,
            "set_fault_flag",
            process="order",
            target="/order.v1.OrderService/CreateOrder",
            error_ratio=0.2,
            ttl_seconds=120,
        ),
        _action("no-flags-order", FLAGS, "clear_fault_flags", processes=["order"]),
    ),
}


@dataclass(frozen=True)
class Step:
    fault: str
    wait_before_s: int  # steady load between the previous fault's end and this one
    hold_s: int  # how long the fault stays on


def schedule(seed: int, *, faults: int = 3) -> list[Step]:
    """The game day for seed: `faults` distinct faults, each after a pause, held a while."""
    if not 1 <= faults <= len(FAULTS):
        raise ValueError(f"faults must be 1..{len(FAULTS)}, not {faults}")
    rng = random.Random(seed)  # noqa: S311 - a schedule to replay, not a secret
    chosen = rng.sample(sorted(FAULTS), k=faults)
    return [Step(name, rng.randint(10, 30), rng.randint(10, 30)) for name in chosen]


def base_file(root: Path | None = None) -> Path:
    return (root or find_project_root()) / "chaos" / "gameday" / "base.yaml"


def _idle(name: str, seconds: int) -> dict[str, Any]:
    return {"type": "probe", "name": name, "provider": {**IDLE, "arguments": {"duration": seconds}}}


def experiment(seed: int, *, faults: int = 3, root: Path | None = None) -> dict[str, Any]:
    """The Chaos Toolkit experiment of the seed's game day."""
    steps = schedule(seed, faults=faults)
    document: dict[str, Any] = yaml.safe_load(base_file(root).read_text())
    method: list[dict[str, Any]] = []
    for number, step in enumerate(steps, start=1):
        inject, undo = copy.deepcopy(FAULTS[step.fault])
        method += [
            _idle(f"{number}-steady-{step.wait_before_s}s", step.wait_before_s),
            {**inject, "name": f"{number}-{inject['name']}"},
            _idle(f"{number}-hold-{step.hold_s}s", step.hold_s),
            {**undo, "name": f"{number}-{undo['name']}"},
        ]
    recovery = next(a for a in document["method"] if a["name"] == "recovery")
    document["method"] = [*method, recovery]
    document["rollbacks"] = [copy.deepcopy(FAULTS[step.fault][1]) for step in reversed(steps)]
    document["title"] = (
        f"Game day {seed}: {', '.join(s.fault for s in steps)} under steady load, "
        "each undone and the SLOs back within the bound"
    )
    busy = sum(step.wait_before_s + step.hold_s for step in steps)
    for control in document["controls"]:
        if control["name"] == "threadline-drill":
            # Load for the whole schedule plus warm-up, restarts and recovery.
            control["provider"]["arguments"]["max_seconds"] = busy + 240
    return document
