"""Drills against the real native stack: a short drill runs end to end to its verdict and
report, and a drill interrupted with Ctrl-C half-way leaves no toxic, no frozen process and no
fault flag behind, even with no rollbacks declared (the drill control mends everything)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from threadline_chaos import toxiproxy
from threadline_chaos.catalogue import load_drill
from threadline_chaos.endpoints import ADMIN_PORTS, DEFAULTS
from threadline_chaos.runner import run_drill
from threadline_native.component import Component

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

HERE = Path(__file__).parent


def _pid(stack: list[Component], name: str) -> int:
    pid = next(c for c in stack if c.name == name).pid_file.live_pid()
    assert pid is not None, f"{name} has no process of this stack"
    return pid


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


def _eventually(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _serves_flags(process: str) -> bool:
    try:
        url = f"http://127.0.0.1:{ADMIN_PORTS[process]}/admin/faults"
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _flags(process: str) -> list[dict[str, Any]]:
    response = httpx.get(f"http://127.0.0.1:{ADMIN_PORTS[process]}/admin/faults", timeout=5)
    response.raise_for_status()
    faults: list[dict[str, Any]] = response.json()["faults"]
    return faults


def test_a_short_drill_runs_to_its_verdict_and_report(stack: list[Component]) -> None:
    order_before = _pid(stack, "order")
    run = run_drill(load_drill(HERE / "short-kill-order.yaml"))

    journal = json.loads((run.report_dir / "journal.json").read_text())  # type: ignore[operator]
    assert journal["status"] == "completed"
    assert [r["status"] for r in journal["run"]] == ["succeeded"] * 4
    assert journal["rollbacks"][0]["status"] == "succeeded"
    assert run.steady_state_before
    assert all(check.held for check in run.steady_state_before)
    assert run.fault_window is not None
    assert run.fault_window.seconds >= 3
    assert run.time_to_recover_s is not None
    assert run.time_to_recover_s <= run.recovery_bound_s
    assert run.status is not None
    order_after = _pid(stack, "order")
    assert order_after != order_before, "the killed order service was started again"
    assert httpx.get("http://127.0.0.1:9102/readyz", timeout=5).status_code == 200
    assert (run.report_dir / "load" / "locust_stats.csv").exists()  # type: ignore[operator]


def test_an_interrupted_drill_leaves_no_fault_behind(
    stack: list[Component], tmp_path: Path
) -> None:
    paused = "user-consumer" if any(c.name == "user-consumer" for c in stack) else "order"
    # A process started before the admin API existed serves no /admin/faults: use one that does.
    flagged = next((p for p in ("order", "user") if _serves_flags(p)), None)
    targets = {"order": "/order.v1.OrderService/GetOrder", "user": "GET /v1/users/{user_id}"}
    method: list[dict[str, Any]] = [
        _action("latency-on-order-user", "network_faults", "add_toxic", proxy="order-user",
                toxic_type="latency", attributes={"latency": 50}, name="interrupt-test"),
        _action(f"pause-{paused}", "process_faults", "pause_component", component=paused),
    ]  # fmt: skip
    if flagged:
        method.append(
            _action(f"flag-on-{flagged}", "flag_faults", "set_fault_flag", process=flagged,
                    target=targets[flagged], latency_ms=10, ttl_seconds=300)
        )  # fmt: skip
    method.append(
        {"type": "probe", "name": "hold", "provider": {"type": "python",
         "module": "chaosaddons.utils.idle", "func": "idle_for", "arguments": {"duration": 120}}}
    )  # fmt: skip
    experiment = {
        "version": "1.0.0",
        "title": "Interrupted half-way, the drill control still mends everything",
        "description": "No rollbacks declared: only the control can undo the faults.",
        "controls": [
            {
                "name": "threadline-drill",
                "provider": {
                    "type": "python",
                    "module": "threadline_chaos.controls.drill",
                    "arguments": {"users": 0},
                },
            }
        ],
        "method": method,
        "rollbacks": [],
    }
    path = tmp_path / "interrupted.yaml"
    path.write_text(yaml.safe_dump(experiment))
    pid = _pid(stack, paused)
    chaos = subprocess.Popen(
        [sys.executable, "-m", "chaostoolkit", "--log-file", str(tmp_path / "chaostoolkit.log"),
         "run", "--rollback-strategy", "always",
         "--journal-path", str(tmp_path / "journal.json"), str(path)],
        env={**os.environ, "THREADLINE_CHAOS_RUN_DIR": str(tmp_path)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        injected = _eventually(
            lambda: (
                _state(pid) == "T"
                and "interrupt-test"
                in toxiproxy.toxics(DEFAULTS["toxiproxy_url"]).get("order-user", [])
                and (flagged is None or bool(_flags(flagged)))
            ),
            seconds=30,
        )
        assert injected, "the faults were injected before the interruption"
        chaos.send_signal(signal.SIGINT)  # what Ctrl-C sends
        assert chaos.wait(timeout=90) is not None
    finally:
        if chaos.poll() is None:
            chaos.kill()
            os.kill(pid, signal.SIGCONT)
            toxiproxy.reset(DEFAULTS["toxiproxy_url"])

    assert json.loads((tmp_path / "journal.json").read_text())["status"] == "interrupted"
    assert toxiproxy.toxics(DEFAULTS["toxiproxy_url"]) == {}
    assert _state(pid) != "T"
    if flagged:
        assert _flags(flagged) == []
    mended = json.loads((tmp_path / "mended.json").read_text())
    assert mended["resumed"] == [paused]
    assert mended["problems"] == []


def test_a_tripped_guard_halts_the_fault_at_once_and_the_drill_is_aborted(
    stack: list[Component], tmp_path: Path
) -> None:
    guard = {
        "name": "always-trips",
        "type": "probe",
        "frequency": 2,
        "tolerance": True,
        "provider": {
            "type": "python",
            "module": "threadline_chaos.probes",
            "func": "guard_clear",
            "arguments": {"name": "always-trips", "expression": "vector(1) > 0"},
        },
    }
    experiment = {
        "version": "1.0.0",
        "title": "A guard that always trips halts the drill",
        "description": "The stop condition's end to end path.",
        "runtime": {"rollbacks": {"strategy": "always"}},
        "extensions": [{"name": "threadline", "reconcile": False, "expected_alert": None}],
        "controls": [
            {
                "name": "threadline-drill",
                "provider": {
                    "type": "python",
                    "module": "threadline_chaos.controls.drill",
                    "arguments": {"users": 0},
                },
            },
            {
                "name": "guard",
                "provider": {
                    "type": "python",
                    "module": "chaosaddons.controls.safeguards",
                    "arguments": {"probes": [guard]},
                },
            },
        ],
        "method": [
            _action("latency-on-order-user", "network_faults", "add_toxic", proxy="order-user",
                    toxic_type="latency", attributes={"latency": 20}, name="guard-test"),
            {"type": "probe", "name": "hold", "provider": {"type": "python",
             "module": "chaosaddons.utils.idle", "func": "idle_for",
             "arguments": {"duration": 120}}},
        ],
        "rollbacks": [
            _action("no-latency", "network_faults", "remove_toxic", proxy="order-user",
                    name="guard-test"),
        ],
    }  # fmt: skip
    path = tmp_path / "guarded.yaml"
    path.write_text(yaml.safe_dump(experiment))
    began = time.monotonic()
    run = run_drill(load_drill(path))
    assert time.monotonic() - began < 60, "halted at once, not after the 120 s hold"
    assert run.aborted_because is not None
    assert run.aborted_because.startswith("guard tripped")
    assert "always-trips" in run.aborted_because
    assert run.status is not None
    assert run.status.value == "aborted"
    journal = json.loads((run.report_dir / "journal.json").read_text())  # type: ignore[operator]
    assert journal["status"] == "interrupted"
    assert journal["rollbacks"][0]["status"] == "succeeded"
    assert toxiproxy.toxics(DEFAULTS["toxiproxy_url"]) == {}


def _action(title: str, module: str, func: str, **arguments: Any) -> dict[str, Any]:
    provider = {
        "type": "python",
        "module": f"threadline_chaos.{module}",
        "func": func,
        "arguments": arguments,
    }
    return {"type": "action", "name": title, "provider": provider}
