"""A trace as a waterfall PNG, with the log lines its services wrote under it.

One row per span in parent/child order, indented by depth, on one time axis in ms from the
trace's first span; bars coloured by service, the span kind beside each name, failed spans
hatched and edged in red. Each log line of the trace is listed under the chart and, when its
span_id names a drawn span, marked on that span's bar at the time it was written (L1, L2, ...).

    trace = get_json(f"{jaeger}/api/traces/{trace_id}")["data"][0]
    draw_waterfall(trace=trace, logs=records, title="CreateOrder", target=Path("order.png"))

Matplotlib's object API only (`Figure`, no pyplot): nothing global, no display needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from threadline_native.verify.waterfall_layout import Waterfall, layout

__all__ = ["draw_waterfall"]

ROW_INCHES = 0.3
LOG_LINE_INCHES = 0.2
MESSAGE_CHARS = 100
# The name column: characters that fit, and indentation per depth (axes fraction), capped.
NAME_CHARS = 54
INDENT_STEP = 0.03
MAX_INDENT = 10
ERROR_COLOUR = "tab:red"
# tab10 without its red, which marks failed spans.
SERVICE_COLOURS = (
    "tab:blue",
    "tab:orange",
    "tab:green",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:gray",
    "tab:olive",
    "tab:cyan",
)
RELATION_NOTES = {
    "follows": " (follows from)",
    # Usually the entry span: its parent is the caller's span, which the caller did not export.
    "orphan": " (parent not in the trace)",
    "linked": " (links another trace)",
}


def draw_waterfall(
    *, trace: Mapping[str, Any], logs: Sequence[Mapping[str, Any]], title: str, target: Path
) -> Path:
    """Write the waterfall of one Jaeger trace and its VictoriaLogs lines to `target` (PNG)."""
    waterfall = layout(trace, logs)
    colours = {
        service: SERVICE_COLOURS[index % len(SERVICE_COLOURS)]
        for index, service in enumerate(waterfall.services)
    }
    chart_inches = ROW_INCHES * max(len(waterfall.rows), 3) + 1.6
    list_inches = LOG_LINE_INCHES * (len(waterfall.logs) + 2) + 0.4
    figure = Figure(figsize=(15, chart_inches + list_inches), layout="constrained")
    grid = figure.add_gridspec(
        2, 2, width_ratios=[4, 11], height_ratios=[chart_inches, list_inches]
    )
    names = figure.add_subplot(grid[0, 0])
    chart = figure.add_subplot(grid[0, 1], sharey=names)
    listing = figure.add_subplot(grid[1, :])
    figure.suptitle(
        f"{title}\ntrace {waterfall.trace_id} · {len(waterfall.rows) + waterfall.omitted} spans"
        f" · {waterfall.total_ms:.1f} ms",
        fontsize=12,
    )
    _draw_names(names, waterfall, colours)
    _draw_spans(chart, waterfall, colours)
    _draw_logs(listing, waterfall, colours)
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=100)
    return target


def _draw_names(axes: Axes, waterfall: Waterfall, colours: Mapping[str, str]) -> None:
    """The span names, indented by depth, on the chart's rows (a left-aligned label column)."""
    axes.axis("off")
    axes.set_xlim(0, 1)
    for index, row in enumerate(waterfall.rows):
        indent = min(row.depth, MAX_INDENT)
        # The kind and how the span joins the tree matter more than the end of a long name.
        suffix = f" [{row.kind or 'span'}]{RELATION_NOTES.get(row.relation, '')}"
        room = max(NAME_CHARS - indent * 2 - len(suffix), 8)
        name = row.operation if len(row.operation) <= room else row.operation[: room - 1] + "…"
        axes.text(
            indent * INDENT_STEP,
            index,
            name + suffix,
            va="center",
            fontfamily="monospace",
            fontsize=8,
            color=ERROR_COLOUR if row.error else colours[row.service],
        )


def _draw_spans(axes: Axes, waterfall: Waterfall, colours: Mapping[str, str]) -> None:
    rows = waterfall.rows
    width = max(waterfall.total_ms, 0.001)
    for index, row in enumerate(rows):
        axes.barh(
            index,
            max(row.duration_ms, width / 500),  # a zero-length span still shows
            left=row.start_ms,
            height=0.6,
            color=colours[row.service],
            edgecolor=ERROR_COLOUR if row.error else "none",
            linewidth=2 if row.error else 0,
            hatch="//" if row.error else None,
        )
        note = f"{row.duration_ms:.2f} ms" + ("  ERROR" if row.error else "")
        axes.text(
            row.start_ms + row.duration_ms + width / 200,
            index,
            note,
            va="center",
            fontsize=8,
            color=ERROR_COLOUR if row.error else "black",
        )
    for number, line in enumerate(waterfall.logs, start=1):
        if line.row is None:
            continue
        axes.plot(line.offset_ms, line.row - 0.38, marker="v", color="black", markersize=6)
        axes.annotate(
            f"L{number}",
            (line.offset_ms, line.row - 0.38),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            fontsize=7,
        )
    axes.tick_params(axis="y", left=False, labelleft=False)
    axes.set_ylim(len(rows) - 0.4 if rows else 1, -1)
    axes.set_xlim(0, width * 1.15)
    axes.set_xlabel("ms from the trace's first span")
    axes.grid(axis="x", alpha=0.3)
    if waterfall.omitted:
        failed = f" ({waterfall.omitted_errors} of them failed)" if waterfall.omitted_errors else ""
        axes.set_title(
            f"first {len(rows)} spans shown; {waterfall.omitted} more left out{failed}",
            loc="left",
            fontsize=9,
        )
    if not rows:
        axes.text(0.5, 0.5, "no spans", transform=axes.transAxes, ha="center")
    handles: list[Patch | Line2D] = [
        Patch(color=colour, label=service) for service, colour in colours.items()
    ]
    handles.append(Patch(facecolor="white", edgecolor=ERROR_COLOUR, hatch="//", label="error"))
    handles.append(Line2D([], [], marker="v", color="black", linestyle="", label="log line"))
    axes.legend(handles=handles, loc="lower right", bbox_to_anchor=(1, 1), ncol=len(handles))


def _draw_logs(axes: Axes, waterfall: Waterfall, colours: Mapping[str, str]) -> None:
    axes.axis("off")
    header = f"{'':4} {'offset':>10}  {'service':<12} {'severity':<8} message"
    lines = [(header, "black")]
    for number, line in enumerate(waterfall.logs, start=1):
        where = f"span {line.span_id[:8]}" if line.span_id else "no span"
        if line.span_id and line.row is None:
            where += ", not drawn"
        message = line.message.replace("\n", " ")[:MESSAGE_CHARS]
        text = (
            f"L{number:<3} {line.offset_ms:>7.2f} ms  {line.service:<12} "
            f"{line.severity:<8} {message}  ({where})"
        )
        lines.append((text, colours.get(line.service, "black")))
    if not waterfall.logs:
        lines.append(("no log lines for this trace", "black"))
    if waterfall.omitted_logs:
        lines.append((f"... {waterfall.omitted_logs} more log lines left out", "black"))
    axes.set_title("log lines of this trace (VictoriaLogs)", loc="left", fontsize=10)
    step = 1 / max(len(lines), 1)
    for index, (text, colour) in enumerate(lines):
        axes.text(
            0,
            1 - (index + 0.5) * step,
            text,
            transform=axes.transAxes,
            fontfamily="monospace",
            fontsize=8,
            color=colour,
            va="center",
        )
