"""Chaos Toolkit actions on processes: kill, terminate, pause and resume, stop and start.

Each names a stack component (user, order, order-relay, user-consumer, postgres, redis, kafka)
and acts through the stack runner `make up` used, native or compose. Every action that breaks
something notes it in the run's ledger, so the clean-up control can mend it on any exit.
"""

from __future__ import annotations

import time
from signal import SIGCONT, SIGSTOP

from chaoslib.exceptions import ActivityFailed

from threadline_chaos import ledger
from threadline_chaos.drain import note_moment
from threadline_chaos.stack_access import check_faultable, control
from threadline_native.component import StackError
from threadline_native.component_control import parse_signal

EXIT_TIMEOUT_SECONDS = 45.0

__all__ = [
    "pause_component",
    "resume_component",
    "signal_component",
    "start_component",
    "stop_component",
]


def signal_component(*, component: str, signal: str = "SIGKILL") -> dict[str, str | float]:
    """Send signal (SIGKILL, SIGTERM...) to a component; it stays down until started again."""
    check_faultable(component)
    sig = parse_signal(signal)
    if sig in (SIGSTOP, SIGCONT):
        raise ValueError("pause and resume with pause_component / resume_component")
    signalled_at = time.time()
    try:
        control().signal(component, sig)
    except StackError as error:
        raise ActivityFailed(str(error)) from error
    ledger.note_stopped(component)
    note_moment(component, "signalled", signalled_at)
    began = time.monotonic()
    # SIGTERM drains in-flight work first (the services' grace period is 20 s): a restart must
    # wait for the old process to be gone, or it would find it still holding the port.
    while control().running(component):
        if time.monotonic() - began > EXIT_TIMEOUT_SECONDS:
            raise ActivityFailed(
                f"{component} still runs {EXIT_TIMEOUT_SECONDS:.0f}s after {sig.name}"
            )
        time.sleep(0.1)
    note_moment(component, "exited", time.time())
    return {
        "component": component,
        "signal": sig.name,
        "exited_after_seconds": round(time.monotonic() - began, 2),
    }


def pause_component(*, component: str) -> dict[str, str | float]:
    """Freeze a component (SIGSTOP / compose pause): it holds its sockets but answers nothing."""
    check_faultable(component)
    try:
        control().signal(component, parse_signal("SIGSTOP"))
    except StackError as error:
        raise ActivityFailed(str(error)) from error
    ledger.note_paused(component)
    return {"component": component, "paused_at": time.time()}


def resume_component(*, component: str) -> dict[str, str | float]:
    """Continue a frozen component (SIGCONT / compose unpause); harmless when it runs."""
    check_faultable(component)
    try:
        control().signal(component, parse_signal("SIGCONT"))
    except StackError as error:
        raise ActivityFailed(str(error)) from error
    ledger.note_resumed(component)
    return {"component": component, "resumed_at": time.time()}


def stop_component(*, component: str) -> dict[str, str | float]:
    """Stop a component the way `make down` does (its stop signal, then a kill after a grace)."""
    check_faultable(component)
    began = time.monotonic()
    try:
        control().stop(component)
    except StackError as error:
        raise ActivityFailed(str(error)) from error
    ledger.note_stopped(component)
    return {"component": component, "stop_seconds": round(time.monotonic() - began, 2)}


def start_component(*, component: str) -> dict[str, str | float]:
    """Start a component as `make up` does and wait until healthy; nothing to do when it runs."""
    check_faultable(component)
    began = time.monotonic()
    try:
        control().start(component)
    except StackError as error:
        raise ActivityFailed(str(error)) from error
    ledger.note_started(component)
    note_moment(component, "started", time.time())
    return {"component": component, "healthy_after_seconds": round(time.monotonic() - began, 2)}
