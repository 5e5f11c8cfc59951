"""chart.png from a stored Prometheus range-query answer: a PNG, the fault window shaded."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from threadline_chaos.record import TimeWindow, utc_from_epoch
from threadline_chaos.report.chart import FAULT_LABEL, build_figure, with_gaps, write_chart
from threadline_chaos.report.chart_data import ChartData, merged, panels
from threadline_chaos.report.prometheus_range import RangeQueryError, parse_matrix

PAYLOADS = json.loads(
    (Path(__file__).parent / "fixtures" / "prometheus_query_range.json").read_text()
)
START = utc_from_epoch(1767268800)
END = START + timedelta(seconds=180)
FAULT = TimeWindow(START + timedelta(seconds=60), START + timedelta(seconds=90))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chart_data() -> ChartData:
    rate = merged(parse_matrix(PAYLOADS["request_rate"]))
    errors = merged(parse_matrix(PAYLOADS["error_ratio"]))
    return {
        "Request rate (requests/s)": {"order": rate},
        "Error ratio (availability SLI)": {"order": errors},
        "p99 latency (s)": {"order": [(at, value / 100) for at, value in rate]},
    }


def date_number(moment: datetime) -> float:
    """Matplotlib's number for a date: days since its epoch, 1970-01-01 UTC."""
    return moment.timestamp() / 86400


def fault_patches(ax: Axes) -> list[Rectangle]:
    return [
        patch
        for patch in ax.patches
        if isinstance(patch, Rectangle) and patch.get_label() == FAULT_LABEL
    ]


def test_the_stored_answer_parses_to_its_points_keeping_nan() -> None:
    (series,) = parse_matrix(PAYLOADS["error_ratio"])

    assert len(series.points) == 61
    assert series.points[0][0] == START
    assert math.isnan(series.points[0][1])  # no traffic yet: the line starts later
    assert max(value for _, value in series.points[1:]) == 0.35


def test_a_missing_stretch_breaks_the_line() -> None:
    points = [(START + timedelta(seconds=s), 1.0) for s in (0, 3, 6, 30, 33)]

    broken = with_gaps(points)

    assert [round((at - START).total_seconds()) for at, _ in broken] == [0, 3, 6, 9, 30, 33]
    assert math.isnan(broken[3][1])
    assert with_gaps(points[:3]) == points[:3]


def test_the_chart_is_a_png_file(tmp_path: Path) -> None:
    path = write_chart(
        tmp_path / "chart.png", chart_data(), start=START, end=END, fault_window=FAULT
    )

    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert path.stat().st_size > 10_000


def test_every_panel_shades_exactly_the_fault_window() -> None:
    figure = build_figure(chart_data(), start=START, end=END, fault_window=FAULT)

    assert [ax.get_title(loc="left") for ax in figure.axes] == list(chart_data())
    for ax in figure.axes:
        (shade,) = fault_patches(ax)
        assert shade.get_x() == pytest.approx(date_number(FAULT.start))
        assert shade.get_x() + shade.get_width() == pytest.approx(date_number(FAULT.end))
        assert len(ax.get_lines()) == 1


def test_without_a_fault_nothing_is_shaded() -> None:
    figure = build_figure(chart_data(), start=START, end=END, fault_window=None)

    assert all(fault_patches(ax) == [] for ax in figure.axes)


def test_a_refused_query_is_an_error_that_says_why() -> None:
    with pytest.raises(RangeQueryError, match="parse error"):
        parse_matrix({"status": "error", "error": "parse error at char 5"})
    with pytest.raises(RangeQueryError, match="expected a matrix, got a vector"):
        parse_matrix({"status": "success", "data": {"resultType": "vector", "result": []}})


def test_the_panels_query_the_red_series_and_the_slo_rules_availability_sli() -> None:
    rate, errors, p99 = panels()

    assert rate.queries["user"] == (
        'sum(rate(http_server_request_duration_seconds_count{service="user"}[30s]))'
    )
    assert 'grpc_code=~"Unknown|Internal|Unavailable' in errors.queries["order"]
    assert "[30s]" in errors.queries["order"]
    assert p99.queries["order"].startswith("histogram_quantile(0.99, ")
