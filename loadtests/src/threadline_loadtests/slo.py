"""Service-level objectives of a load run, from a TOML file, and the checks they imply.

```toml
[defaults]                 # every journey, unless it says otherwise
p95_ms = 150
p99_ms = 250
max_error_rate = 0.001

[journeys.orders]
min_rps = 40               # floors have no default: each journey states its own
p99_ms = 300               # overrides the default for this journey
```
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from threadline_loadtests.summary import RunSummary

__all__ = ["Check", "JourneyObjectives", "Objectives", "SloFileError", "evaluate"]

_LIMITS = ("p95_ms", "p99_ms", "max_error_rate", "min_rps")


class SloFileError(ValueError):
    """The SLO file cannot be used as it is; the message says where and why."""


class Comparison(StrEnum):
    AT_MOST = "<="
    AT_LEAST = ">="


@dataclass(frozen=True, slots=True)
class JourneyObjectives:
    journey: str
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_error_rate: float | None = None
    min_rps: float | None = None


@dataclass(frozen=True, slots=True)
class Objectives:
    journeys: tuple[JourneyObjectives, ...]
    source: str = ""

    @classmethod
    def load(cls, path: Path) -> Objectives:
        try:
            document = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise SloFileError(f"{path}: {error}") from error
        return cls.parse(document, source=str(path))

    @classmethod
    def parse(cls, document: dict[str, Any], *, source: str = "") -> Objectives:
        unknown = set(document) - {"defaults", "journeys"}
        if unknown:
            raise SloFileError(f"{source}: unknown sections {sorted(unknown)}")
        defaults = _limits(document.get("defaults", {}), where=f"{source} [defaults]")
        if "min_rps" in defaults:
            raise SloFileError(f"{source} [defaults]: min_rps is per journey, not a default")
        journeys = document.get("journeys", {})
        if not journeys:
            raise SloFileError(f"{source}: no [journeys.<name>] section: nothing to judge")
        return cls(
            journeys=tuple(
                JourneyObjectives(
                    journey=name,
                    **{**defaults, **_limits(limits, where=f"{source} [journeys.{name}]")},
                )
                for name, limits in journeys.items()
            ),
            source=source,
        )


def _limits(table: dict[str, Any], *, where: str) -> dict[str, float]:
    unknown = set(table) - set(_LIMITS)
    if unknown:
        raise SloFileError(f"{where}: unknown keys {sorted(unknown)}; known: {list(_LIMITS)}")
    limits = {}
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise SloFileError(f"{where}: {key} must be a non-negative number, not {value!r}")
        limits[key] = float(value)
    return limits


@dataclass(frozen=True, slots=True)
class Check:
    """One objective against one observed figure."""

    journey: str
    metric: str
    observed: float
    objective: float
    comparison: Comparison
    unit: str

    @property
    def passed(self) -> bool:
        if math.isnan(self.observed):
            return False
        if self.comparison is Comparison.AT_MOST:
            return self.observed <= self.objective
        return self.observed >= self.objective

    def describe(self, value: float) -> str:
        if self.unit == "%":
            return f"{value * 100:.2f}%"
        if self.unit == "ms":
            return f"{value:.0f} ms"
        return f"{value:.1f} {self.unit}"

    def breach_message(self) -> str:
        """One sentence a reader of a failed pipeline understands without the table."""
        if math.isnan(self.observed):
            return (
                f"journey '{self.journey}': no requests were recorded, so {self.metric} is unknown"
            )
        direction = (
            "above the maximum" if self.comparison is Comparison.AT_MOST else "below the minimum"
        )
        return (
            f"journey '{self.journey}': {self.metric} was {self.describe(self.observed)}, "
            f"{direction} of {self.describe(self.objective)}"
        )


def evaluate(objectives: Objectives, summary: RunSummary) -> list[Check]:
    """Every check the objectives imply, in file order; a journey without traffic fails."""
    checks = []
    for journey in objectives.journeys:
        figures = summary.journey(journey.journey)
        observed: dict[str, float] = (
            {
                "p95_ms": figures.p95_ms,
                "p99_ms": figures.p99_ms,
                "max_error_rate": figures.error_rate,
                "min_rps": figures.rps,
            }
            if figures is not None and figures.requests
            else dict.fromkeys(_LIMITS, math.nan)
        )
        specs = (
            ("p95_ms", "p95 latency", Comparison.AT_MOST, "ms"),
            ("p99_ms", "p99 latency", Comparison.AT_MOST, "ms"),
            ("max_error_rate", "error rate", Comparison.AT_MOST, "%"),
            ("min_rps", "throughput", Comparison.AT_LEAST, "req/s"),
        )
        for key, metric, comparison, unit in specs:
            objective = getattr(journey, key)
            if objective is not None:
                checks.append(
                    Check(journey.journey, metric, observed[key], objective, comparison, unit)
                )
    return checks
