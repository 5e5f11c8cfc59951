"""A waterfall picture of each verified journey: its spans, with its log lines on them.

The drawing is `threadline_native.verify.waterfall.draw_waterfall`; this module gathers what it
draws (the trace as Jaeger gives it, the trace's records as VictoriaLogs gives them) and names
the file: reports/verify/<journey-slug>-<trace id[:8]>.png.
"""

from __future__ import annotations

import re
from pathlib import Path

from threadline_native.verify import jaeger
from threadline_native.verify.endpoints import Endpoints
from threadline_native.verify.journeys import Journey
from threadline_native.verify.logs import trace_records
from threadline_native.verify.result import Result, guarded
from threadline_native.verify.waterfall import draw_waterfall

CHECK = "waterfall picture"


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


def draw(endpoints: Endpoints, journey: Journey, reports_dir: Path) -> tuple[Result, Path | None]:
    """Draw one journey's waterfall; the row for the table and the picture's path."""
    drawn: list[Path] = []

    def run() -> Result:
        trace = jaeger.fetch_trace(endpoints, journey.trace_id)
        if trace is None:
            return Result.judged(CHECK, journey.name, False, "Jaeger does not hold the trace")
        reports_dir.mkdir(parents=True, exist_ok=True)
        path = draw_waterfall(
            trace=trace,
            logs=trace_records(endpoints, journey),
            title=journey.name,
            target=picture_path(reports_dir, journey),
        )
        drawn.append(path)
        return Result.judged(CHECK, journey.name, path.is_file(), shown(path))

    return guarded(CHECK, journey.name, run), (drawn[0] if drawn else None)
