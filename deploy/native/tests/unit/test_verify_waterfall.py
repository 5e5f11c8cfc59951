"""The trace waterfall puts each span and log line where it belongs, and writes a real PNG.

The fixtures beside this file were captured from the running native stack: a CreateOrder trace
as Jaeger's `/api/traces/<id>` answers it (order -> user over HTTP, then the outbox's Kafka send
and the user service's consumer) and the VictoriaLogs records with that trace_id. Its root span
references the parent span id of the `traceparent` the journey sent, which no service exported.
"""

from __future__ import annotations

import copy
import json
import struct
from pathlib import Path
from typing import Any

import pytest

from threadline_native.verify.waterfall import draw_waterfall
from threadline_native.verify.waterfall_layout import Row, layout

HERE = Path(__file__).parent
ROOT = "a79c62ac82a1411f"
CREATE_ORDER = "050c3d99bb5d4735"
USER_GET = "4b0a71681d29a08b"
PRODUCER = "1f25cb12d884c48b"
CONSUMER = "c65ac6a5045dd135"
APPLY_EVENT = "cc5b0094763cd4a7"


@pytest.fixture
def trace() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HERE / "waterfall_trace.json").read_text())["data"][0]
    return data


@pytest.fixture
def logs() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads((HERE / "waterfall_logs.json").read_text())
    return records


def _span(trace: dict[str, Any], span_id: str) -> dict[str, Any]:
    span: dict[str, Any] = next(s for s in trace["spans"] if s["spanID"] == span_id)
    return span


def _row(rows: list[Row], span_id: str) -> Row:
    return next(row for row in rows if row.span_id == span_id)


def test_rows_follow_parent_child_order_indented_by_depth(trace: dict[str, Any]) -> None:
    rows = layout(trace, []).rows

    assert [(row.operation, row.depth) for row in rows] == [
        ("order.v1.OrderService/CreateOrder", 0),
        ("create_order", 1),
        ("SELECT", 2),
        ("GET", 2),
        ("GET /v1/users/{user_id}", 3),
        ("GET", 4),
        ("SELECT", 4),
        ("SET", 4),
        ("SELECT", 2),
        ("WITH", 2),
        ("send orders.v1", 2),
        ("process orders.v1", 3),
        ("apply order event", 4),
        ("INSERT", 5),
        ("UPDATE", 5),
        ("UPDATE", 5),
        ("DEL PUBLISH", 4),
    ]
    assert [row.service for row in rows[3:6]] == ["order", "user", "user"]
    assert [row.kind for row in rows[10:12]] == ["producer", "consumer"]
    assert _row(rows, USER_GET).kind == "server"


def test_the_root_whose_traceparent_parent_was_never_exported_is_an_orphan(
    trace: dict[str, Any],
) -> None:
    rows = layout(trace, []).rows

    assert (rows[0].span_id, rows[0].relation) == (ROOT, "orphan")
    assert {row.relation for row in rows[1:]} == {"child"}


def test_offsets_are_milliseconds_from_the_first_span_on_one_axis(trace: dict[str, Any]) -> None:
    waterfall = layout(trace, [])

    assert waterfall.rows[0].start_ms == 0
    assert _row(waterfall.rows, CREATE_ORDER).start_ms == pytest.approx(0.716)
    assert _row(waterfall.rows, CONSUMER).start_ms == pytest.approx(47.005)
    assert _row(waterfall.rows, CONSUMER).duration_ms == pytest.approx(13.595)
    assert waterfall.total_ms == pytest.approx(60.6)  # the consumer ends last
    assert waterfall.services == ["order", "user"]


def test_log_lines_attach_to_the_span_that_wrote_them(
    trace: dict[str, Any], logs: list[dict[str, Any]]
) -> None:
    waterfall = layout(trace, logs)

    attached = [
        (line.service, line.message, waterfall.rows[line.row].span_id)
        for line in waterfall.logs
        if line.row is not None
    ]
    assert attached == [("user", "request handled", USER_GET), ("order", "rpc handled", ROOT)]
    for line in waterfall.logs:
        assert line.row is not None
        span = waterfall.rows[line.row]
        # Written inside its span: an access log line lands as the span ends.
        assert span.start_ms <= line.offset_ms <= span.start_ms + span.duration_ms + 1
    assert waterfall.logs[0].offset_ms == pytest.approx(14.719)
    assert waterfall.logs[0].severity == "INFO"


def test_log_lines_of_spans_not_drawn_are_listed_without_a_row(
    trace: dict[str, Any], logs: list[dict[str, Any]]
) -> None:
    stray = [
        {**logs[0], "span_id": "00000000000000ff", "_msg": "from elsewhere"},
        {key: value for key, value in logs[1].items() if key != "span_id"},
    ]

    waterfall = layout(trace, stray)

    assert [(line.message, line.span_id, line.row) for line in waterfall.logs] == [
        ("request handled", "", None),
        ("from elsewhere", "00000000000000ff", None),
    ]


def test_a_kafka_consumer_that_follows_from_its_producer_hangs_under_it(
    trace: dict[str, Any],
) -> None:
    _span(trace, CONSUMER)["references"][0]["refType"] = "FOLLOWS_FROM"

    rows = layout(trace, []).rows

    producer, consumer = _row(rows, PRODUCER), _row(rows, CONSUMER)
    assert rows.index(consumer) == rows.index(producer) + 1
    assert (consumer.depth, consumer.relation) == (producer.depth + 1, "follows")
    assert _row(rows, APPLY_EVENT).depth == consumer.depth + 1


def test_a_consumer_linking_a_producer_in_another_trace_starts_its_own_tree(
    trace: dict[str, Any],
) -> None:
    link = {"refType": "FOLLOWS_FROM", "traceID": "ab" * 16, "spanID": PRODUCER}
    _span(trace, CONSUMER)["references"] = [link]

    rows = layout(trace, []).rows

    consumer = _row(rows, CONSUMER)
    assert (consumer.depth, consumer.relation) == (0, "linked")
    # Trees are ordered by their first span: the consumer's comes after the CreateOrder tree.
    assert rows.index(consumer) == 11
    assert [row.depth for row in rows[11:]] == [0, 1, 2, 2, 2, 1]


def test_spans_whose_parent_is_missing_are_orphans_at_the_top_level(
    trace: dict[str, Any],
) -> None:
    trace["spans"] = [span for span in trace["spans"] if span["spanID"] != PRODUCER]

    rows = layout(trace, []).rows

    assert len(rows) == 16
    consumer = _row(rows, CONSUMER)
    assert (consumer.depth, consumer.relation) == (0, "orphan")
    assert _row(rows, APPLY_EVENT).depth == 1


def test_a_reference_cycle_still_draws_every_span_once(trace: dict[str, Any]) -> None:
    _span(trace, CONSUMER)["references"][0]["spanID"] = APPLY_EVENT

    rows = layout(trace, []).rows

    assert sorted(row.span_id for row in rows) == sorted(s["spanID"] for s in trace["spans"])
    assert _row(rows, CONSUMER).relation == "orphan"


def test_failed_spans_are_marked_by_error_tag_or_otel_status(trace: dict[str, Any]) -> None:
    _span(trace, USER_GET)["tags"].append({"key": "error", "type": "bool", "value": True})
    _span(trace, CONSUMER)["tags"].append(
        {"key": "otel.status_code", "type": "string", "value": "ERROR"}
    )

    rows = layout(trace, []).rows

    assert {row.span_id for row in rows if row.error} == {USER_GET, CONSUMER}


def _large(trace: dict[str, Any], extra: int) -> dict[str, Any]:
    """The real trace plus `extra` failed SELECT spans under the consumer, each 1 µs later."""
    template = _span(trace, "88a040cc002d298c")
    for number in range(extra):
        span = copy.deepcopy(template)
        span["spanID"] = f"{number:016x}"
        span["startTime"] = template["startTime"] + number + 1
        span["references"][0]["spanID"] = CONSUMER
        span["tags"].append({"key": "error", "type": "bool", "value": True})
        trace["spans"].append(span)
    return trace


def test_a_large_trace_is_capped_and_says_how_many_spans_were_left_out(
    trace: dict[str, Any], logs: list[dict[str, Any]]
) -> None:
    large = _large(trace, 120)
    late = {**logs[0], "span_id": f"{119:016x}"}

    waterfall = layout(large, [*logs, late], max_rows=60)

    assert len(waterfall.rows) == 60
    assert waterfall.omitted == 137 - 60
    # In tree order: the 16 real spans up to the consumer's event handler, 44 copies; left out
    # are the other 76 copies and the consumer's last real span (DEL PUBLISH, which succeeded).
    assert waterfall.rows[11].span_id == CONSUMER
    assert [row.operation for row in waterfall.rows[15:17]] == ["UPDATE", "INSERT"]
    assert waterfall.omitted_errors == 76
    assert [line.row is None for line in waterfall.logs] == [False, False, True]


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert header[12:16] == b"IHDR"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_draw_waterfall_writes_a_png_of_sensible_size(
    trace: dict[str, Any], logs: list[dict[str, Any]], tmp_path: Path
) -> None:
    target = tmp_path / "nested" / "order.png"

    written = draw_waterfall(trace=trace, logs=logs, title="CreateOrder", target=target)

    assert written == target
    width, height = _png_size(target)
    assert (width, 500) <= (1500, height) <= (1500, 1500)
    assert 20_000 < target.stat().st_size < 1_000_000


def test_a_capped_waterfall_stays_a_readable_height(
    trace: dict[str, Any], logs: list[dict[str, Any]], tmp_path: Path
) -> None:
    target = tmp_path / "large.png"

    draw_waterfall(trace=_large(trace, 300), logs=logs, title="fan-out", target=target)

    width, height = _png_size(target)
    assert width == 1500
    assert 1500 < height < 3000
