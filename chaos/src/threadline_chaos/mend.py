"""Undo every fault a drill may have left: the clean-up that runs on every exit of a run.

Idempotent and wholesale, so it is right whatever state a run was cut in: every toxic removed
(Toxiproxy reset), every fault flag cleared on every admin port, every process this run paused
continued and every one it stopped started again.
"""

from __future__ import annotations

from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration

from threadline_chaos import ledger
from threadline_chaos.flag_faults import clear_fault_flags
from threadline_chaos.network_faults import remove_all_toxics
from threadline_chaos.process_faults import resume_component, start_component

__all__ = ["mend_everything"]


def mend_everything(*, configuration: Configuration = None) -> dict[str, Any]:
    """Remove toxics, clear flags, resume and restart what this run broke; what was done."""
    done: dict[str, Any] = {"problems": []}
    try:
        done["toxics_removed"] = remove_all_toxics(configuration=configuration)
    except ActivityFailed as error:
        done["problems"].append(str(error))
    done["flags_cleared"] = clear_fault_flags()
    stopped, paused = ledger.outstanding()
    for component in paused:
        try:
            resume_component(component=component)
        except ActivityFailed as error:
            done["problems"].append(f"{component} not resumed: {error}")
    done["resumed"] = paused
    for component in stopped:
        try:
            start_component(component=component)
        except ActivityFailed as error:
            done["problems"].append(f"{component} not restarted: {error}")
    done["restarted"] = stopped
    return done
