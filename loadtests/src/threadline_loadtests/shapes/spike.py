"""Spike: a quarter of the peak, the whole peak for a fifth of the run, back to a quarter.

Shows how far latency jumps when load quadruples at once and how fast it comes back.
"""

from __future__ import annotations

from threadline_loadtests.shapes.stages import StagedShape


class Spike(StagedShape):
    stages = ((0.4, 0.25), (0.6, 1.0), (1.0, 0.25))
