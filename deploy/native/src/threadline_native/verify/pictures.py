"""A waterfall picture of each verified journey: its spans, with its log lines on them.

The drawing itself is `threadline_native.verify.waterfall.draw_waterfall`, written separately;
this module gathers what it draws (the trace as Jaeger gives it, the trace's records as
VictoriaLogs gives them) and names the file: reports/verify/<journey-slug>-<trace id[:8]>.png.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any, Protocol, cast

from threadline_native.verify import jaeger
from threadline_native.verify.endpoints import Endpoints
from threadline_native.verify.journeys import Journey
from threadline_native.verify.logs import trace_records
from threadline_native.verify.result import Result, State, guarded

CHECK = "waterfall picture"
WATERFALL_MODULE = "threadline_native.verify.waterfall"


class DrawWaterfall(Protocol):
    def __call__(
        self, *, trace: dict[str, Any], logs: list[dict[str, Any]], title: str, target: Path
    ) -> Path: ...


def waterfall_drawer() -> tuple[DrawWaterfall | None, str]:
    """draw_waterfall, or None and why (its module, or a library it needs, is not there)."""
    # TODO(waterfall): verify/waterfall.py is written in parallel. Once it is committed, replace
    # this lookup with `from threadline_native.verify.waterfall import draw_waterfall`, make
    # DrawWaterfall its type, and drop not_drawn() and its SKIPPED row.
    try:
        module = importlib.import_module(WATERFALL_MODULE)
    except ImportError as error:
        return None, f"{WATERFALL_MODULE} cannot be imported ({error})"
    return cast(DrawWaterfall, module.draw_waterfall), ""


def slug(name: str) -> str:
    """`create order (gRPC -> HTTP -> Kafka)` -> `create-order-grpc-http-kafka`."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def picture_path(reports_dir: Path, journey: Journey) -> Path:
    return reports_dir / f"{slug(journey.name)}-{journey.trace_id[:8]}.png"


def shown(path: Path) -> str:
    """The path relative to the working directory (the checkout, under make) when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def not_drawn(reason: str) -> Result:
    return Result(CHECK, "every journey", State.SKIPPED, reason)


def draw(
    endpoints: Endpoints, journey: Journey, reports_dir: Path, drawer: DrawWaterfall
) -> tuple[Result, Path | None]:
    """Draw one journey's waterfall; the row for the table and the picture's path."""
    drawn: list[Path] = []

    def run() -> Result:
        trace = jaeger.fetch_trace(endpoints, journey.trace_id)
        if trace is None:
            return Result.judged(CHECK, journey.name, False, "Jaeger does not hold the trace")
        reports_dir.mkdir(parents=True, exist_ok=True)
        path = drawer(
            trace=trace,
            logs=trace_records(endpoints, journey),
            title=journey.name,
            target=picture_path(reports_dir, journey),
        )
        drawn.append(path)
        return Result.judged(CHECK, journey.name, path.is_file(), shown(path))

    return guarded(CHECK, journey.name, run), (drawn[0] if drawn else None)
