"""Ramp: climb to the peak in five steps over the first half, then hold it."""

from __future__ import annotations

from threadline_loadtests.shapes.stages import StagedShape


class Ramp(StagedShape):
    stages = ((0.1, 0.2), (0.2, 0.4), (0.3, 0.6), (0.4, 0.8), (0.5, 1.0), (1.0, 1.0))
