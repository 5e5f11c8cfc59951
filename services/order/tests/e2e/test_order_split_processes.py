"""The outbox relay and the orders.v1 consumer as processes of their own, as the stacks run them.

The order and user services run with their in-process relay and consumer turned off;
`order-service relay` and `user-service consume` run beside them, on their own admin ports.
An order's event then travels only through those two processes: nothing is published before
the relay starts, nothing applied before the consumer starts, and its trace still runs from
CreateOrder to the statistics update. SIGTERM stops each of them cleanly, with exit code 0.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from order_service.testing import ServiceProcess, free_port
from threadline_contracts.order.v1 import order_pb2, order_pb2_grpc
from threadline_testing.telemetry_sink import TelemetrySink

pytestmark = pytest.mark.e2e

PRODUCER, CONSUMER = 4, 5  # OTLP's Span.SpanKind numbers

Launch = Callable[[str, list[str], dict[str, str], str], ServiceProcess]


@pytest.fixture
def launch_role(tmp_path: Path) -> Iterator[Launch]:
    """`launch_role(name, command, env, admin_port_variable)`: one process role, started and
    ready on a free admin port; SIGTERMed afterwards if the test left it running."""
    started: list[ServiceProcess] = []

    def launch(
        name: str, command: list[str], env: dict[str, str], port_variable: str
    ) -> ServiceProcess:
        admin = free_port()
        process = ServiceProcess(
            name,
            [sys.executable, "-m", *command],
            {**env, port_variable: str(admin)},
            f"http://127.0.0.1:{admin}/readyz",
            tmp_path / f"{name}.log",
        )
        started.append(process.start())
        return process

    yield launch
    for process in started:
        if process.process is not None and process.process.poll() is None:
            process.stop()


def exposes(process: ServiceProcess, sample: str) -> bool:
    """Whether the admin port's exposition holds a sample named ``sample``."""
    admin = process.ready_url.rsplit("/", 1)[0]
    lines = httpx.get(f"{admin}/metrics", timeout=5).text.splitlines()
    return any(line.startswith((f"{sample}{{", f"{sample} ")) for line in lines)


def log_records(process: ServiceProcess) -> list[dict[str, Any]]:
    return [json.loads(line) for line in process.log().splitlines() if line.startswith("{")]


async def wait_for(condition: Callable[[], bool], message: str, *, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, message
        await asyncio.sleep(0.2)


async def test_relay_and_consumer_processes_carry_an_order_event_and_stop_cleanly_on_sigterm(
    launch_stack: Any, launch_role: Launch, telemetry_sink: TelemetrySink
) -> None:
    stack = launch_stack(
        order_env={
            "ORDER_RELAY_ENABLED": "false",
            "ORDER_RELAY_METRICS_INTERVAL_SECONDS": "0.2",
        },
        user_env={"USER_ORDERS_CONSUMER_ENABLED": "false"},
        keep_spans=True,
    )
    assert not exposes(stack.orders, "outbox_relay_connected")
    assert not exposes(stack.users, "order_events_total")
    user_id, token = stack.register("split@example.com")
    auth = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(stack.grpc_target) as channel:
        response = await order_pb2_grpc.OrderServiceStub(channel).CreateOrder(
            order_pb2.CreateOrderRequest(
                idempotency_key="split",
                lines=[order_pb2.CreateOrderLine(product_id="tea-sampler", quantity=2)],
            ),
            metadata=auth,
            timeout=10,
        )

    # No relay anywhere yet: the event waits in the outbox, and the service reports it.
    await wait_for(
        lambda: stack.orders.metric("outbox_backlog_events") == 1,
        "the order service never reported the waiting event",
    )
    relay = launch_role(
        "order-relay", ["order_service.cli", "relay"], stack.orders.env, "ORDER_RELAY_ADMIN_PORT"
    )
    await wait_for(
        lambda: relay.metric("outbox_events_published_total") == 1,
        "the relay process never published the event",
    )
    await wait_for(
        lambda: stack.orders.metric("outbox_backlog_events") == 0,
        "the order service never saw the outbox drained",
    )
    assert relay.metric("outbox_relay_connected") == 1
    assert not exposes(relay, "grpc_server_handling_seconds_count")

    # No consumer anywhere yet: the statistics do not move.
    await asyncio.sleep(1)
    assert stack.user(user_id, token)["order_count"] == 0
    consumer = launch_role(
        "user-consumer",
        ["user_service.cli", "consume"],
        stack.users.env,
        "USER_ORDERS_CONSUMER_ADMIN_PORT",
    )
    await wait_for(
        lambda: stack.user(user_id, token)["order_count"] == 1,
        "the consumer process never applied the event",
    )
    assert stack.user(user_id, token)["total_spent_cents"] == response.order.total.minor_units
    assert consumer.metric("order_events_total", outcome="applied") == 1
    assert not exposes(consumer, "http_server_request_duration_seconds_count")

    for process, drain_step in ((relay, "outbox relay"), (consumer, "orders consumer")):
        began = time.monotonic()
        assert process.stop() == 0, process.log()[-3000:]
        assert time.monotonic() - began < 15
        records = log_records(process)
        assert any(
            r["message"] == "drain step done" and r.get("drain.step") == drain_step for r in records
        ), process.log()[-3000:]
        assert all(r["service"] == ("order" if process is relay else "user") for r in records)
        assert not [r for r in records if r["level"] in {"ERROR", "CRITICAL"}]

    # The trace runs through both processes: the relay's PRODUCER span under CreateOrder's
    # trace, the consumer's CONSUMER span under it.
    spans = telemetry_sink.kept_spans(stack.telemetry)
    [root] = [s for s in spans if s.name == "order.v1.OrderService/CreateOrder"]
    trace = [s for s in spans if s.trace_id == root.trace_id]
    [produced] = [s for s in trace if s.kind == PRODUCER]
    [consumed] = [s for s in trace if s.kind == CONSUMER]
    assert (produced.service, consumed.service) == ("order", "user")
    assert consumed.parent_id == produced.span_id
