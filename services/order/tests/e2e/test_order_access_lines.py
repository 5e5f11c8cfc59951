"""With sampling below 1, each stored trace and each failure still has its access lines.

Both services run as real processes, sampling parent-based at 0.5, and export their log records
to the session's OTLP receiver, which keeps this launch's (`telemetry_sink`, keep_logs). Each
call carries a `traceparent` chosen here, so the test decides which traces are sampled
(observability.access_policy's table, through real processes):

* a sampled CreateOrder crosses order (gRPC) and user (HTTP, the account check): exactly one
  access line from each service, in its trace;
* a sampled-out successful CreateOrder: no access line in either service, while both
  services' RED histograms still count it;
* a sampled-out CreateOrder failed by a fault flag (UNAVAILABLE), and a sampled-out
  GET /v1/users/{id} failed by one (503): one access line each, at ERROR;
* a sampled-out CreateOrder slowed past the order service's latency objective (0.5 s) by a
  fault flag: one access line.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from typing import Any

import grpc
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from threadline_contracts.order.v1 import order_pb2, order_pb2_grpc
from threadline_testing.telemetry_sink import ReceivedLog, TelemetrySink

pytestmark = pytest.mark.e2e

CREATE = "/order.v1.OrderService/CreateOrder"
GET_USER = "GET /v1/users/{user_id}"
ACCESS = "observability.access"
# Once a later line of the same process has arrived, an earlier one would have too (each
# process exports its records in order); this much more covers the last batch's delay.
SETTLE_SECONDS = 1.0


def traceparent(*, sampled: bool) -> tuple[str, str]:
    """A new trace's id and the header that starts it, sampled or not."""
    trace_id = secrets.token_hex(16)
    return trace_id, f"00-{trace_id}-{secrets.token_hex(8)}-{'01' if sampled else '00'}"


def set_fault(admin_url: str, target: str, **fields: Any) -> None:
    body = {"target": target, "error_ratio": 0.0, "latency_ms": 0, "ttl_seconds": 60}
    response = httpx.post(
        f"{admin_url}/admin/faults", json={**body, **fields, "actor": "e2e"}, timeout=5
    )
    assert response.status_code == 201, response.text


def clear_faults(admin_url: str) -> None:
    assert httpx.delete(f"{admin_url}/admin/faults", timeout=5).status_code == 200


def admin_url(process: Any) -> str:
    return str(process.ready_url.removesuffix("/readyz"))


def counted(process: Any, name: str, **labels: str) -> float:
    """The sample ``name`` with ``labels`` on the process's admin /metrics (0 when absent)."""
    exposition = httpx.get(f"{admin_url(process)}/metrics", timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


async def wait_for(
    read: Callable[[], list[ReceivedLog]], done: Callable[[list[ReceivedLog]], bool]
) -> list[ReceivedLog]:
    deadline = time.monotonic() + 30
    while not done(records := read()):
        assert time.monotonic() < deadline, [(r.service, r.trace_id, r.body) for r in records]
        await asyncio.sleep(0.2)
    await asyncio.sleep(SETTLE_SECONDS)
    return read()


def access_lines(records: list[ReceivedLog], trace_id: str) -> list[tuple[str, str, str]]:
    """(service, what, severity) of each access line in the trace."""
    return sorted(
        (
            record.service,
            str(record.attributes.get("rpc.method") or record.attributes.get("http.route")),
            record.severity_text,
        )
        for record in records
        if record.scope == ACCESS and record.trace_id == trace_id
    )


async def test_sampled_traces_and_failures_keep_one_access_line_per_service_crossed(
    launch_stack: Any, telemetry_sink: TelemetrySink
) -> None:
    sampling = {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.5"}
    stack = launch_stack(keep_logs=True, common_env=sampling)
    user_id, token = stack.register("access-lines@example.com")
    auth = (("authorization", f"Bearer {token}"),)
    orders_admin, users_admin = admin_url(stack.orders), admin_url(stack.users)
    sampled, sampled_out = traceparent(sampled=True), traceparent(sampled=False)
    failed, slow = traceparent(sampled=False), traceparent(sampled=False)
    user_failed = traceparent(sampled=False)

    def created_ok() -> float:
        return counted(
            stack.orders,
            "grpc_server_handling_seconds_count",
            grpc_method="CreateOrder",
            grpc_code="OK",
        )

    def users_read_ok() -> float:
        return counted(
            stack.users,
            "http_server_request_duration_seconds_count",
            method="GET",
            route="/v1/users/{user_id:uuid}",
            status_class="2xx",
        )

    async with grpc.aio.insecure_channel(stack.grpc_target) as channel:
        orders = order_pb2_grpc.OrderServiceStub(channel)

        async def create(key: str, trace: tuple[str, str]) -> None:
            await orders.CreateOrder(
                order_pb2.CreateOrderRequest(
                    idempotency_key=key,
                    lines=[order_pb2.CreateOrderLine(product_id="milk-frother", quantity=1)],
                ),
                metadata=(*auth, ("traceparent", trace[1])),
                timeout=10,
            )

        # Fetches the JWKS first, so the traces below hold only CreateOrder's own calls.
        await orders.ListOrders(order_pb2.ListOrdersRequest(), metadata=auth, timeout=10)
        await create("sampled", sampled)
        # The user service observes its request once the response is sent: give it a moment.
        await asyncio.sleep(0.5)
        counted_before = (created_ok(), users_read_ok())
        await create("sampled-out", sampled_out)
        await asyncio.sleep(0.5)
        counted_after = (created_ok(), users_read_ok())

        set_fault(orders_admin, CREATE, error_ratio=1.0)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await create("failed", failed)
        assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
        clear_faults(orders_admin)

        set_fault(orders_admin, CREATE, latency_ms=600)
        await create("slow", slow)
        clear_faults(orders_admin)

    set_fault(users_admin, GET_USER, error_ratio=1.0)
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(
            f"{stack.users_url}/v1/users/{user_id}",
            headers={"authorization": f"Bearer {token}", "traceparent": user_failed[1]},
        )
    assert response.status_code == 503
    clear_faults(users_admin)

    def arrived(records: list[ReceivedLog]) -> bool:
        last = (sampled, slow, user_failed)
        return all(access_lines(records, trace_id) for trace_id, _ in last)

    records = await wait_for(lambda: telemetry_sink.kept_logs(stack.telemetry), arrived)

    assert access_lines(records, sampled[0]) == [
        ("order", "CreateOrder", "INFO"),
        ("user", "/v1/users/{user_id:uuid}", "INFO"),
    ]
    assert access_lines(records, sampled_out[0]) == []
    # Not logged, still counted: one more successful CreateOrder and account check.
    assert counted_after == (counted_before[0] + 1, counted_before[1] + 1)
    assert access_lines(records, failed[0]) == [("order", "CreateOrder", "ERROR")]
    assert access_lines(records, slow[0]) == [("order", "CreateOrder", "INFO")]
    assert access_lines(records, user_failed[0]) == [("user", "/v1/users/{user_id:uuid}", "ERROR")]
    (slow_line,) = (r for r in records if r.scope == ACCESS and r.trace_id == slow[0])
    assert float(slow_line.attributes["duration_ms"]) > 500
