"""The README's example runs exactly as shown: logs, exemplars, OTLP export, SIGTERM -> exit 0."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

import observability
from observability.testing import OtlpSink

README = Path(__file__).parents[2] / "README.md"


def _example() -> str:
    match = re.search(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert match is not None
    return match.group(1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def sink() -> AsyncIterator[OtlpSink]:
    receiver = OtlpSink()
    await receiver.start()
    yield receiver
    await receiver.stop()


def test_the_package_docstring_shows_the_same_example() -> None:
    assert observability.__doc__ is not None
    assert textwrap.indent(_example(), "    ").strip() in observability.__doc__


async def test_readme_example_serves_logs_metrics_and_exits_cleanly(
    tmp_path: Path, sink: OtlpSink
) -> None:
    (tmp_path / "hello.py").write_text(_example())
    http_port, admin_port = _free_port(), _free_port()
    env = os.environ | {
        "OBS_HTTP_PORT": str(http_port),
        "OBS_ADMIN_PORT": str(admin_port),
        "OBS_ADMIN_HOST": "127.0.0.1",
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint,
        "OTEL_TRACES_SAMPLER_ARG": "1",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "hello.py",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            await _wait_ready(client, f"http://127.0.0.1:{admin_port}/readyz")
            hello = await client.get(f"http://127.0.0.1:{http_port}/hello/ada")
            scrape = await client.get(
                f"http://127.0.0.1:{admin_port}/metrics",
                headers={"Accept": "application/openmetrics-text"},
            )
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            stdout, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert process.returncode == 0, stderr.decode()
    assert hello.json() == {"hello": "ada"}
    lines = [orjson.loads(line) for line in stdout.splitlines() if line.startswith(b"{")]
    (greeting,) = [line for line in lines if line["message"] == "greeting"]
    trace_id = greeting["trace_id"]
    assert (greeting["service"], greeting["who"], greeting["password"]) == (
        "hello",
        "ada",
        "[REDACTED]",
    )
    assert f'trace_id="{trace_id}"' in scrape.text
    assert "shutdown requested" in {line["message"] for line in lines}
    # The flush on shutdown delivered the request's span and log record over OTLP.
    assert trace_id in {span.trace_id.hex() for span in sink.spans}
    assert trace_id in {record.trace_id.hex() for record in sink.log_records}


async def _wait_ready(client: httpx.AsyncClient, url: str) -> None:
    async with asyncio.timeout(20):
        while True:
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
