"""Which requests get an access line: the sampled, the failed and the slow.

The access line exists so that every trace the backend keeps, and every request that went
wrong, finds a log line from each service it crossed. In the default mode, ``sampled``:

==================  ==========  ======================================  ===========
trace sampled       failed      slower than the latency objective       access line
==================  ==========  ======================================  ===========
yes                 any         any                                     yes
no                  yes         any                                     yes
no                  no          yes                                     yes
no                  no          no                                      no
==================  ==========  ======================================  ===========

*Failed* is what the service's availability objective counts as bad: an HTTP status of 500 or
more, a gRPC code the semantic conventions call a server error (UNKNOWN, DEADLINE_EXCEEDED,
UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS). A 4xx is the caller's mistake: it is logged
when its trace is sampled, and counted, like every request, by the RED histograms. *Slower than
the latency objective* compares the request's duration with ``latency_objective_seconds``, the
threshold of the service's latency SLO (deploy/compose/prometheus/rules/slo.rules.yml: 250 ms
for user, 500 ms for order), so every request the latency SLI counts as bad has its line.

A sampled-out, successful, fast request writes nothing: its trace does not exist, and the RED
metrics count it. ``all`` writes a line for every request, ``off`` none at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol

__all__ = [
    "DEFAULT_ACCESS_POLICY",
    "DEFAULT_LATENCY_OBJECTIVE_SECONDS",
    "AccessLogMode",
    "AccessPolicy",
    "AccessSettings",
    "access_policy_of",
]

#: The latency objective when a service names none: the HTTP services' SLO threshold here.
DEFAULT_LATENCY_OBJECTIVE_SECONDS: Final = 0.25


class AccessLogMode(StrEnum):
    """``OBS_ACCESS_LOG``: which requests get an access line."""

    SAMPLED = "sampled"  # sampled traces, failures and requests slower than the objective
    ALL = "all"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """The decision table of the module docstring, for one service."""

    mode: AccessLogMode = AccessLogMode.SAMPLED
    latency_objective_seconds: float = DEFAULT_LATENCY_OBJECTIVE_SECONDS

    def wants(self, *, sampled: bool, failed: bool, seconds: float) -> bool:
        """Whether a request that ended so gets its access line."""
        if self.mode is AccessLogMode.SAMPLED:
            return sampled or failed or seconds > self.latency_objective_seconds
        return self.mode is AccessLogMode.ALL


#: ``sampled`` with the default objective: what a middleware built without settings applies.
DEFAULT_ACCESS_POLICY: Final = AccessPolicy()


class AccessSettings(Protocol):
    """The two settings a policy is read from (`ObservabilitySettings` has both; it imports
    this module for their defaults, so it is not imported back)."""

    @property
    def access_log(self) -> AccessLogMode: ...

    @property
    def latency_objective_seconds(self) -> float: ...


def access_policy_of(
    settings: AccessSettings, mode: AccessLogMode | bool | None = None
) -> AccessPolicy:
    """The policy ``settings`` name, or ``mode`` in its place (``True`` is ``sampled``,
    ``False`` is ``off``: the older on/off form)."""
    if mode is None:
        mode = settings.access_log
    elif mode is True:
        mode = AccessLogMode.SAMPLED
    elif mode is False:
        mode = AccessLogMode.OFF
    return AccessPolicy(AccessLogMode(mode), settings.latency_objective_seconds)
