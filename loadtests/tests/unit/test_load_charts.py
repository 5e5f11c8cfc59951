"""Charts from Locust's stats history: rates from the running totals, three PNG files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from threadline_loadtests.charts import draw_charts, read_history

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PERCENTILES = ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"]
COLUMNS = [
    "Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s", *PERCENTILES,
    "Total Request Count", "Total Failure Count", "Total Median Response Time",
    "Total Average Response Time", "Total Min Response Time", "Total Max Response Time",
    "Total Average Content Size",
]  # fmt: skip


def write_history(path: Path, rows: list[tuple[int, str, str, int, int, str]]) -> None:
    """Rows of (timestamp, type, name, total requests, total failures, p99)."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for timestamp, kind, name, requests, failures, p99 in rows:
            percentiles = ["N/A" if p99 == "N/A" else "10"] * len(PERCENTILES)
            percentiles[PERCENTILES.index("99%")] = p99
            writer.writerow(
                [
                    timestamp,
                    5,
                    kind,
                    name,
                    "0.0",
                    "0.0",
                    *percentiles,
                    requests,
                    failures,
                    10,
                    12,
                    1,
                    90,
                    100,
                ]
            )


def test_throughput_comes_from_the_totals_second_by_second(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    write_history(
        path,
        [
            (1000, "", "Aggregated", 0, 0, "N/A"),
            (1001, "GET", "GET /v1/users/me", 40, 0, "20"),
            (1001, "", "Aggregated", 50, 0, "20"),
            (1003, "", "Aggregated", 250, 4, "30"),
        ],
    )

    history = read_history(path)

    assert history.aggregated.seconds == [1.0, 3.0]
    assert history.aggregated.rps == [50.0, 100.0]
    assert history.aggregated.failures_per_second == [0.0, 2.0]
    assert history.aggregated.p99_ms == [20.0, 30.0]
    assert history.series["GET GET /v1/users/me"].rps == [40.0]


def test_a_statistics_reset_is_not_a_negative_rate(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    write_history(
        path,
        [
            (0, "", "Aggregated", 0, 0, "N/A"),
            (1, "", "Aggregated", 500, 0, "9"),
            (2, "", "Aggregated", 20, 0, "9"),
        ],
    )

    assert read_history(path).aggregated.rps == [500.0, 0.0]


@pytest.mark.parametrize("failures", [0, 7])
def test_draws_throughput_latency_and_errors(tmp_path: Path, failures: int) -> None:
    path = tmp_path / "history.csv"
    rows = [(t, "", "Aggregated", t * 100, failures * t, "25") for t in range(10)]
    rows += [
        (t, "gRPC", "order.v1.OrderService/GetOrder", t * 10, failures * t, "25") for t in range(10)
    ]
    write_history(path, rows)

    charts = draw_charts(read_history(path), tmp_path / "out", title="run", p99_objective_ms=250)

    assert [chart.name for chart in charts] == ["throughput.png", "latency.png", "errors.png"]
    for chart in charts:
        assert chart.read_bytes().startswith(PNG_SIGNATURE)
