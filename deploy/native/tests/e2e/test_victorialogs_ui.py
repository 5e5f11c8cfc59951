"""VictoriaLogs' own web UI shows both services' log lines of a fresh CreateOrder trace.

The test registers a user and places an order (order -> user over HTTP, then Kafka) under a
trace id chosen here, waits until VictoriaLogs' query API holds the log lines of both services
for it, then opens vmui's query page for that trace_id in headless Chromium, driven by its own
command line (`--dump-dom`, `--screenshot`): no browser-automation dependency. The screenshot
lands in reports/verify/victorialogs-<first 8 hex of the trace id>.png.

vmui routes in the URL's hash, so the query and the time range go after `#/?`; it runs the
query on load. Its default range is the last 5 minutes, so the link names one hour; it groups
by service.name and shows service.name and trace_id beside each message.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from threadline_native.paths import find_project_root
from threadline_native.verify import victorialogs
from threadline_native.verify.endpoints import Endpoints
from threadline_native.verify.http import HttpError, request
from threadline_native.verify.journeys import log_in, order_journey, register, services_answer
from threadline_native.verify.links import victorialogs_link

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

ENDPOINTS = Endpoints()
SERVICES = ("order", "user")
LOGS_ARRIVE_SECONDS = 60
# Virtual time lets vmui's timers run at once; network fetches still complete in real time.
VIRTUAL_TIME_BUDGET_MS = 15_000
CHROMIUM_SECONDS = 90
RENDER_ATTEMPTS = 3


def _victorialogs_answers() -> bool:
    try:
        status, _ = request("GET", f"{ENDPOINTS.victorialogs}/health")
    except HttpError:
        return False
    return status == 200


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("no chromium on PATH: apt-get install chromium")
    return path


@pytest.fixture(scope="module")
def trace_id() -> str:
    """A CreateOrder trace whose log lines from both services VictoriaLogs already holds."""
    if not (services_answer(ENDPOINTS) and _victorialogs_answers()):
        pytest.skip(
            "the native stack is not running (the services or VictoriaLogs): needs `make up`"
        )
    _, credentials = register(ENDPOINTS)
    _, account = log_in(ENDPOINTS, credentials)
    journey = order_journey(ENDPOINTS, account)
    logsql = victorialogs.trace_query(journey.trace_id)
    deadline = time.monotonic() + LOGS_ARRIVE_SECONDS
    seen: set[str] = set()
    while time.monotonic() < deadline:
        records = victorialogs.query(ENDPOINTS, logsql, start=journey.started_at - 60)
        seen = {str(record.get("service.name")) for record in records}
        if seen >= set(SERVICES):
            return journey.trace_id
        time.sleep(1)
    pytest.fail(f"VictoriaLogs holds log lines of {sorted(seen)} only for {journey.trace_id}")


class _VisibleText(HTMLParser):
    """The text nodes of a page, without the query editor that merely echoes the URL."""

    HIDDEN = frozenset({"textarea", "script", "style"})

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self._hidden_depth:
            self._hidden_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth and data.strip():
            self.texts.append(data.strip())


def _chromium(executable: str, profile: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    command = [
        executable,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
        *arguments,
    ]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=CHROMIUM_SECONDS, check=True
    )


def _rendered_texts(executable: str, profile: Path, url: str, trace_id: str) -> list[str]:
    """The page's text once vmui has drawn the trace's log rows (a few tries if it is slow)."""
    texts: list[str] = []
    for _ in range(RENDER_ATTEMPTS):
        parser = _VisibleText()
        parser.feed(_chromium(executable, profile, "--dump-dom", url).stdout)
        texts = parser.texts
        if trace_id in texts:
            break
        time.sleep(2)
    return texts


def test_vmui_shows_the_trace_id_and_both_services_log_lines(
    chromium: str, trace_id: str, tmp_path: Path
) -> None:
    # The very link `make verify` prints for a journey.
    url = victorialogs_link(ENDPOINTS, trace_id).target
    profile = tmp_path / "chromium-profile"

    texts = _rendered_texts(chromium, profile, url, trace_id)

    # Each log row shows its trace_id; each service heads its group and fills its rows' column.
    assert texts.count(trace_id) >= len(SERVICES), (url, texts[-40:])
    for service in SERVICES:
        assert texts.count(service) >= 2, (service, url, texts[-40:])
    screenshot = find_project_root(Path(__file__).parent) / "reports" / "verify"
    screenshot.mkdir(parents=True, exist_ok=True)
    target = screenshot / f"victorialogs-{trace_id[:8]}.png"
    _chromium(
        chromium,
        profile,
        "--hide-scrollbars",
        "--window-size=1600,1000",
        f"--screenshot={target}",
        url,
    )
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert target.stat().st_size > 20_000
