"""Fixtures for the observability tests: an isolated Telemetry and captured JSON logs."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability import Telemetry
from observability.logging import JsonFormatter
from observability.redaction import RedactionFilter
from observability.testing import isolated_telemetry


@pytest.fixture
def isolated() -> Iterator[tuple[Telemetry, InMemorySpanExporter]]:
    telemetry, exporter = isolated_telemetry()
    yield telemetry, exporter
    telemetry.shutdown_sync()


@pytest.fixture
def telemetry(isolated: tuple[Telemetry, InMemorySpanExporter]) -> Telemetry:
    return isolated[0]


@pytest.fixture
def spans(isolated: tuple[Telemetry, InMemorySpanExporter]) -> InMemorySpanExporter:
    return isolated[1]


@pytest.fixture
def json_logs() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Root-logger lines as the stdout handler would write them, parsed back."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(service="test"))
    handler.addFilter(RedactionFilter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def lines() -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    root.removeHandler(handler)
    root.setLevel(previous_level)
