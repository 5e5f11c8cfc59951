"""The running stack as the drills see it: its context and the control of its components."""

from __future__ import annotations

from functools import cache

from threadline_native.component import Context
from threadline_native.component_control import ComponentControl, control_for
from threadline_native.stack import load_context

# The components a drill may break: the services' process roles and their backends.
PROCESS_COMPONENTS = ("user", "order", "order-relay", "user-consumer")
DEPENDENCY_COMPONENTS = ("postgres", "redis", "kafka")
# Where the services send their telemetry: down, they must keep serving (stop-collector).
TELEMETRY_COMPONENTS = ("otel-collector",)
FAULTABLE = PROCESS_COMPONENTS + DEPENDENCY_COMPONENTS + TELEMETRY_COMPONENTS


@cache
def context() -> Context:
    return load_context()


def control() -> ComponentControl:
    """Native or compose control, chosen by the mode the stack was started in."""
    return control_for(context())


def check_faultable(component: str) -> None:
    if component not in FAULTABLE:
        raise ValueError(
            f"{component!r} is not a component a drill may break; "
            f"choose one of {', '.join(FAULTABLE)}"
        )
