"""Soak: the peak held for the whole run (give it a long --run-time, e.g. 2h).

Finds what only time shows: leaks, growing queues, token expiry (15 min), cache churn.
"""

from __future__ import annotations

from threadline_loadtests.shapes.stages import StagedShape


class Soak(StagedShape):
    stages = ((1.0, 1.0),)
