"""stop-postgres's clean-refusal probe against stand-in services over real HTTP and gRPC."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import pytest
from chaoslib.exceptions import ActivityFailed

from threadline_chaos import checks
from threadline_chaos.dependency_down import services_refuse_cleanly

PROBLEM = (
    b'{"type":"urn:threadline:problem:unavailable","title":"Service unavailable","status":503}'
)


@dataclass
class StandIns:
    """What the stand-in user service, admin ports and order service answer."""

    ready_status: dict[str, int] = field(default_factory=lambda: {"user": 503, "order": 503})
    token_status: int = 503
    token_type: str = "application/problem+json"
    rpc_code: grpc.StatusCode | None = grpc.StatusCode.UNAVAILABLE
    rpc_metadata: list[tuple[str, str]] = field(default_factory=list)
    http_url: str = ""
    grpc_target: str = ""

    def configuration(self) -> dict[str, str]:
        return {"user_url": self.http_url, "order_target": self.grpc_target}

    def readiness_urls(self) -> dict[str, str]:
        return {name: f"{self.http_url}/{name}/readyz" for name in ("user", "order")}


@pytest.fixture
def stand_ins(run_directory: Path) -> Iterator[StandIns]:
    fake = StandIns()
    accounts = run_directory / "load" / "accounts.json"
    accounts.parent.mkdir(parents=True)
    accounts.write_text(json.dumps([{"id": "u1", "token": "token-of-u1"}]))

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            component = self.path.strip("/").split("/")[0]
            self._answer(fake.ready_status[component], "application/json", b"{}")

        def do_POST(self) -> None:
            assert self.path == "/v1/auth/token"
            length = int(self.headers["Content-Length"])
            assert json.loads(self.rfile.read(length))["email"].startswith("chaos-probe-")
            self._answer(fake.token_status, fake.token_type, PROBLEM)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    def list_orders(request: bytes, context: grpc.ServicerContext) -> bytes:
        fake.rpc_metadata = list(context.invocation_metadata())
        if fake.rpc_code is not None:
            context.abort(fake.rpc_code, "the database is unreachable")
        return b""

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.http_url = f"http://127.0.0.1:{http.server_address[1]}"
    threading.Thread(target=http.serve_forever, daemon=True).start()
    rpc = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    rpc.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "order.v1.OrderService",
                {"ListOrders": grpc.unary_unary_rpc_method_handler(list_orders)},
            ),
        )
    )
    fake.grpc_target = f"127.0.0.1:{rpc.add_insecure_port('127.0.0.1:0')}"
    rpc.start()
    try:
        yield fake
    finally:
        rpc.stop(None)
        http.shutdown()
        http.server_close()


def probe(fake: StandIns, **overrides: Any) -> dict[str, Any]:
    return services_refuse_cleanly(
        dependency="postgres",
        readiness_urls=fake.readiness_urls(),
        configuration=fake.configuration(),
        **{"readiness_wait_seconds": 0.6, **overrides},
    )


def test_not_ready_503_problem_json_and_unavailable_is_a_clean_outage(
    stand_ins: StandIns, run_directory: Path
) -> None:
    result = probe(stand_ins)

    assert result["held"] is True
    assert ("authorization", "Bearer token-of-u1") in stand_ins.rpc_metadata
    [check] = checks.read_all(run_directory)
    assert check.name == "clean-refusals-postgres"
    seen = dict(check.observations)
    assert seen[f"user {stand_ins.http_url}/user/readyz"].startswith("503 (not ready)")
    assert seen["user POST /v1/auth/token"].startswith("503 application/problem+json in ")
    assert seen["order ListOrders"].startswith("UNAVAILABLE in ")


def test_a_500_an_internal_status_and_a_ready_service_each_fail_the_probe(
    stand_ins: StandIns, run_directory: Path
) -> None:
    stand_ins.ready_status["order"] = 200
    stand_ins.token_status, stand_ins.token_type = 500, "application/json"
    stand_ins.rpc_code = grpc.StatusCode.INTERNAL

    with pytest.raises(ActivityFailed) as failure:
        probe(stand_ins)

    reason = str(failure.value)
    assert "order /readyz answered 200, not 503" in reason
    assert "answered 500 application/json" in reason
    assert "failed with INTERNAL, not UNAVAILABLE" in reason
    assert "user /readyz" not in reason
    assert not checks.read_all(run_directory)[0].held


def test_a_503_that_is_not_problem_json_or_an_rpc_that_succeeds_is_not_clean(
    stand_ins: StandIns,
) -> None:
    stand_ins.token_type = "text/html"
    stand_ins.rpc_code = None

    with pytest.raises(ActivityFailed) as failure:
        probe(stand_ins)

    reason = str(failure.value)
    assert "answered 503 text/html in " in reason
    assert "not 503 application/problem+json" in reason
    assert "order ListOrders answered OK in " in reason


def test_readiness_that_turns_false_late_is_waited_for(stand_ins: StandIns) -> None:
    stand_ins.ready_status["user"] = 200
    threading.Timer(0.3, lambda: stand_ins.ready_status.update(user=503)).start()

    result = probe(stand_ins, readiness_wait_seconds=3.0)

    assert result["held"] is True
    user_seen = dict(result["observations"])[f"user {stand_ins.http_url}/user/readyz"]
    assert user_seen.startswith("503 (not ready), seen after 0.")


def test_without_the_loads_accounts_there_is_no_token_to_call_order_with(
    stand_ins: StandIns, run_directory: Path
) -> None:
    (run_directory / "load" / "accounts.json").unlink()

    with pytest.raises(ActivityFailed, match="no load account to call order with"):
        probe(stand_ins)
