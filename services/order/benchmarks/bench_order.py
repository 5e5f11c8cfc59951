"""Benchmark the order service on loopback (what `make bench-order` runs).

Measures, in one run on this machine:

1. CreateOrder and GetOrder throughput and p50/p99 latency against ONE order-service process
   (real PostgreSQL, outbox relay on, telemetry on with the default sampling, exporters off),
   next to a bare grpc.aio unary method (no interceptors, no work) served the same way;
2. outbox relay throughput in events/s (rows already in the outbox, relay publishing to Kafka);
3. commit-to-consumed latency at a paced 200 orders/s: from the event's `occur_time` (set in
   the transaction that writes it) to the moment a Kafka consumer receives it.

The user service is replaced by a small HTTP stub (JWKS + `GET /v1/users/{id}`) in its own
process, so CreateOrder pays a real HTTP round trip. Results go to docs/benchmarks/order.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import jwt
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prometheus_client import CollectorRegistry

from observability import setup
from order_service.adapters.database import create_engine
from order_service.adapters.kafka_topics import ensure_topics
from order_service.adapters.metrics import OrderMetrics
from order_service.adapters.migrations import upgrade_to_head
from order_service.main import build_relay
from order_service.settings import Settings
from threadline_contracts.events.v1 import order_events_pb2
from threadline_contracts.order.v1 import order_pb2, order_pb2_grpc

ROOT = Path(__file__).resolve().parents[3]
POSTGRES = "postgresql://threadline:threadline@127.0.0.1:5432"
KAFKA = "127.0.0.1:9092"
BARE_METHOD = "/bench.Bare/Echo"
KID = "bench"
SELF = [sys.executable, str(Path(__file__).resolve())]
# The paced phase's orders are told apart on the topic by their first product.
PACED_PRODUCT = "tea-sampler"
PACED_OFFSET = 10**8
LIST_PAGE_SIZE = 10


def free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- helper processes -------------------------------------------------------------------


async def serve_bare(port: int) -> None:
    """A grpc.aio server with one unary method that echoes its bytes: the baseline."""

    async def echo(request: bytes, context: Any) -> bytes:
        return request

    server = grpc.aio.server()
    handler = grpc.unary_unary_rpc_method_handler(echo)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("bench.Bare", {"Echo": handler}),)
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def serve_user_stub(port: int, public_key_b64: str) -> None:
    """The user service as the order service sees it: JWKS and an always-active account."""
    import uvicorn  # noqa: PLC0415
    from starlette.applications import Starlette  # noqa: PLC0415
    from starlette.responses import JSONResponse  # noqa: PLC0415
    from starlette.routing import Route  # noqa: PLC0415

    jwks = {
        "keys": [{"kty": "OKP", "crv": "Ed25519", "x": public_key_b64, "kid": KID, "alg": "EdDSA"}]
    }

    async def keys(request: Any) -> JSONResponse:
        return JSONResponse(jwks)

    async def user(request: Any) -> JSONResponse:
        return JSONResponse({"id": request.path_params["user_id"], "is_active": True})

    app = Starlette(
        routes=[Route("/.well-known/jwks.json", keys), Route("/v1/users/{user_id}", user)]
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@contextlib.contextmanager
def process(argv: list[str], env: dict[str, str] | None = None) -> Any:
    child = subprocess.Popen(argv, env={**os.environ, **(env or {})}, cwd=ROOT)
    try:
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()


async def wait_for_port(port: int, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


# --- load ---------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process (all its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    name: str
    calls: int
    errors: int
    seconds: float
    latencies: list[float]
    # CPU time per call of the observed server processes (by name), over the measured window.
    cpu_us_per_call: dict[str, float] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        return self.calls / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000 if ordered else 0.0

    def row(self) -> str:
        cpu = self.cpu_us_per_call
        return (
            f"| {self.name} | {self.throughput:,.0f} | {self.percentile(0.5):.2f} | "
            f"{self.percentile(0.99):.2f} | {self.errors} | {cpu.get('server', 0):,.0f} | "
            f"{cpu.get('user-service stub', 0):,.0f} |"
        )


async def closed_loop(
    name: str,
    call: Callable[[int], Awaitable[Any]],
    *,
    concurrency: int,
    seconds: float,
    warmup: float = 1.0,
    observed: dict[str, int] | None = None,
) -> Result:
    """``concurrency`` workers calling back to back; only calls after the warm-up count.

    ``observed`` names server processes (name -> pid) whose CPU time per measured call is
    reported: read from /proc at the start and the end of the measured window.
    """
    latencies: list[float] = []
    errors = 0
    counter = 0
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + seconds
    cpu_before: dict[str, float] = {}

    async def worker() -> None:
        nonlocal errors, counter
        while (now := time.perf_counter()) < stop_at:
            counter += 1
            try:
                await call(counter)
            except grpc.aio.AioRpcError:
                if now >= measure_from:
                    errors += 1
                continue
            if now >= measure_from:
                latencies.append(time.perf_counter() - now)

    async def sample_at_window_start() -> None:
        await asyncio.sleep(max(measure_from - time.perf_counter(), 0))
        cpu_before.update({label: cpu_seconds(pid) for label, pid in (observed or {}).items()})

    await asyncio.gather(sample_at_window_start(), *(worker() for _ in range(concurrency)))
    calls = max(len(latencies) + errors, 1)
    cpu = {
        label: (cpu_seconds(pid) - cpu_before[label]) / calls * 1e6
        for label, pid in (observed or {}).items()
    }
    return Result(name, len(latencies), errors, seconds, latencies, cpu)


def channels(port: int, count: int) -> list[grpc.aio.Channel]:
    # Distinct channels (own connections); gRPC would share one subchannel otherwise.
    return [
        grpc.aio.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)]
        )
        for _ in range(count)
    ]


# --- the run ------------------------------------------------------------------------------


def access_tokens(key: Ed25519PrivateKey, count: int) -> list[tuple[tuple[str, str]]]:
    """``authorization`` metadata for ``count`` users, signed like the user service does."""
    now = datetime.now(UTC)
    claims = {
        "iss": "threadline-user",
        "aud": "threadline",
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    return [
        (
            (
                "authorization",
                "Bearer "
                + jwt.encode(
                    {**claims, "sub": str(uuid.uuid4())},
                    key,
                    algorithm="EdDSA",
                    headers={"kid": KID},
                ),
            ),
        )
        for _ in range(count)
    ]


async def bare_phase(args: argparse.Namespace) -> Result:
    port = free_port()
    with process([*SELF, "--bare-server", str(port)]) as server:
        await wait_for_port(port)
        pool = channels(port, args.channels)
        calls = [channel.unary_unary(BARE_METHOD) for channel in pool]
        payload = order_pb2.GetOrderRequest(order_id=str(uuid.uuid4())).SerializeToString()
        result = await closed_loop(
            "bare grpc.aio unary (echo)",
            lambda n: calls[n % len(calls)](payload, timeout=5),
            concurrency=args.concurrency,
            seconds=args.seconds,
            observed={"server": server.pid},
        )
        for channel in pool:
            await channel.close()
    print(result.row(), flush=True)
    return result


async def order_phases(args: argparse.Namespace, url: str, topic: str) -> dict[str, Any]:
    """CreateOrder, GetOrder and commit-to-consumed against one order-service process."""
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    public = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    metadata = access_tokens(key, 200)
    user_port, order_port, admin_port = free_port(), free_port(), free_port()
    env = {
        "ORDER_DATABASE_URL": url,
        "ORDER_PORT": str(order_port),
        "ORDER_ADMIN_PORT": str(admin_port),
        "ORDER_USER_SERVICE_URL": f"http://127.0.0.1:{user_port}",
        "ORDER_KAFKA_BOOTSTRAP_SERVERS": KAFKA,
        "ORDER_ORDERS_TOPIC": topic,
        "ORDER_LOG_LEVEL": "WARNING",
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    }
    with (
        process([*SELF, "--user-stub", str(user_port), public]) as stub,
        process([str(Path(sys.executable).parent / "order-service"), "serve"], env) as server,
    ):
        observed = {"server": server.pid, "user-service stub": stub.pid}
        await wait_for_port(user_port)
        await wait_for_port(order_port)
        pool = channels(order_port, args.channels)
        stubs = [order_pb2_grpc.OrderServiceStub(channel) for channel in pool]
        run_id = uuid.uuid4().hex[:6]

        async def create(n: int, product: str = "coffee-beans-1kg") -> Any:
            return await stubs[n % len(stubs)].CreateOrder(
                order_pb2.CreateOrderRequest(
                    idempotency_key=f"{run_id}-{n}",
                    lines=[
                        order_pb2.CreateOrderLine(product_id=product, quantity=1 + n % 3),
                        order_pb2.CreateOrderLine(product_id="filter-papers-100", quantity=2),
                    ],
                ),
                metadata=metadata[n % len(metadata)],
                timeout=5,
            )

        created = await closed_loop(
            "CreateOrder",
            create,
            concurrency=args.concurrency,
            seconds=args.seconds,
            observed=observed,
        )
        print(created.row(), flush=True)
        # The first caller gets at least a full page of orders for the ListOrders phase.
        sample = [await create(n * len(metadata)) for n in range(-LIST_PAGE_SIZE, 0)][-1]
        get_request = order_pb2.GetOrderRequest(order_id=sample.order.id)
        fetched = await closed_loop(
            "GetOrder",
            lambda n: stubs[n % len(stubs)].GetOrder(get_request, metadata=metadata[0], timeout=5),
            concurrency=args.concurrency,
            seconds=args.seconds,
            observed=observed,
        )
        print(fetched.row(), flush=True)
        list_request = order_pb2.ListOrdersRequest(page_size=LIST_PAGE_SIZE)
        listed = await closed_loop(
            f"ListOrders ({LIST_PAGE_SIZE} per page)",
            lambda n: stubs[n % len(stubs)].ListOrders(
                list_request, metadata=metadata[0], timeout=5
            ),
            concurrency=args.concurrency,
            seconds=args.seconds,
            observed=observed,
        )
        print(listed.row(), flush=True)
        latency = []
        for rate in args.rates:
            measured = await commit_to_consumed(
                create, topic, rate=rate, seconds=args.paced_seconds
            )
            print(f"commit-to-consumed at {rate}/s: {measured}", flush=True)
            latency.append(measured)
        for channel in pool:
            await channel.close()
    return {"create": created, "get": fetched, "list": listed, "latency": latency}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from threadline_native.stack import ensure_up, load_context, select  # noqa: PLC0415

    ensure_up(select(load_context(), ["postgres", "kafka"]), progress=False)
    load_before = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    suffix = uuid.uuid4().hex[:8]
    database, topic = f"bench_orders_{suffix}", f"bench.orders.{suffix}"
    admin = await asyncpg.connect(f"{POSTGRES}/postgres")
    await admin.execute(f'CREATE DATABASE "{database}"')
    url = f"postgresql+asyncpg://threadline:threadline@127.0.0.1:5432/{database}"
    try:
        await asyncio.to_thread(upgrade_to_head, url)
        await ensure_topics(KAFKA, {topic: 3})
        results: dict[str, Any] = {"load_before": load_before, "bare": await bare_phase(args)}
        results.update(await order_phases(args, url, topic))
        results["relay"] = []
        for _ in range(args.relay_runs):
            results["relay"].append(await relay_throughput(url, topic, rows=args.relay_rows))
            print(f"relay: {results['relay'][-1]}", flush=True)
        results["args"] = _portable(vars(args))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
        client = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
        await client.start()
        with contextlib.suppress(Exception):
            await client.delete_topics([topic])
        await client.close()
    return results


async def commit_to_consumed(
    create: Callable[[int, str], Coroutine[Any, Any, Any]], topic: str, *, rate: int, seconds: float
) -> dict[str, float]:
    """Paced CreateOrder calls; latency from the event's occur_time to its arrival here."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=KAFKA, auto_offset_reset="latest")
    await consumer.start()
    await consumer.seek_to_end()
    latencies: list[float] = []
    expected = int(rate * seconds)
    done = asyncio.Event()

    async def receive() -> None:
        async for record in consumer:
            event = order_events_pb2.OrderEvent.FromString(record.value)
            if event.created.lines and event.created.lines[0].product_id == PACED_PRODUCT:
                latencies.append(time.time() - event.occur_time.ToDatetime(UTC).timestamp())
                if len(latencies) >= expected:
                    done.set()

    receiver = asyncio.create_task(receive())
    interval = 1 / rate
    start = time.perf_counter()
    pending: list[asyncio.Task[Any]] = []
    for n in range(expected):
        delay = start + n * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.create_task(create(PACED_OFFSET * rate + n, PACED_PRODUCT)))
    outcomes = await asyncio.gather(*pending, return_exceptions=True)
    failed = sum(isinstance(outcome, BaseException) for outcome in outcomes)
    expected -= failed
    if len(latencies) >= expected:
        done.set()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(30):
            await done.wait()
    receiver.cancel()
    await consumer.stop()
    ordered = sorted(latencies) or [float("nan")]

    def pick(q: float) -> float:
        return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000

    return {
        "rate": rate,
        "sent": len(pending),
        "failed": failed,
        "received": len(ordered),
        "p50_ms": pick(0.5),
        "p99_ms": pick(0.99),
        "max_ms": ordered[-1] * 1000,
        "mean_ms": statistics.fmean(ordered) * 1000,
    }


async def relay_throughput(url: str, topic: str, *, rows: int) -> dict[str, float]:
    """Fill the outbox with ``rows`` events, then time one relay publishing all of them.

    The relay runs in this process (otherwise idle), so its CPU per event is this process's
    CPU time over the run divided by the events.
    """
    settings = Settings(
        database_url=url,
        kafka_bootstrap_servers=KAFKA,
        orders_topic=topic,
        admin_enabled=False,
        # As in the RPC phases: spans are sampled and built, exporters are off.
        traces_exporter="none",
        logs_exporter="none",
    )
    telemetry = setup(
        settings, registry=CollectorRegistry(), set_global=False, configure_logs=False
    )
    engine = create_engine(
        url, pool_size=4, max_overflow=0, pool_timeout_seconds=5, statement_timeout_ms=60000
    )
    value = order_events_pb2.OrderEvent(event_id=str(uuid.uuid4())).SerializeToString() * 4
    async with engine.begin() as connection:
        await connection.exec_driver_sql("DELETE FROM outbox")
        await connection.exec_driver_sql(
            "INSERT INTO outbox (event_id, topic, key, value, headers) "
            "SELECT gen_random_uuid(), $1, convert_to((g % 1000)::text, 'UTF8'), $2, "
            "jsonb_build_object('event-id', g::text, 'traceparent', "
            "'00-' || md5(g::text) || '-' || left(md5(g::text), 16) || '-00') "
            "FROM generate_series(1, $3) AS g",
            (topic, value, rows),
        )
    relay = build_relay(settings, telemetry, engine, OrderMetrics(telemetry.metrics))
    started, cpu_started = time.perf_counter(), time.process_time()
    relay.start()
    try:
        while True:
            async with engine.connect() as connection:
                left = (await connection.exec_driver_sql("SELECT count(*) FROM outbox")).scalar()
            if left == 0:
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    finally:
        await relay.stop(10)
        await engine.dispose()
        await telemetry.shutdown()
    return {
        "rows": rows,
        "seconds": elapsed,
        "events_per_second": rows / elapsed,
        "cpu_us_per_event": cpu / rows * 1e6,
    }


def _portable(arguments: dict[str, Any]) -> dict[str, Any]:
    """Paths relative to the repository, so the committed JSON names no machine's directories."""
    return {
        name: os.path.relpath(value, ROOT) if isinstance(value, Path) else value
        for name, value in arguments.items()
    }


NOTES_MARKER = "<!-- notes: kept when the figures above are regenerated -->"


def report(results: dict[str, Any], out: Path) -> None:
    bare, create, get, listed = (results[name] for name in ("bare", "create", "get", "list"))
    latency, relays, args = results["latency"], results["relay"], results["args"]
    relay_rates = sorted(run["events_per_second"] for run in relays)
    relay_median = statistics.median(relay_rates)
    relay_cpu = statistics.median(run["cpu_us_per_event"] for run in relays)
    cpus = os.cpu_count()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    text = (
        f"""# Order service benchmark

`make bench-order` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.python_implementation()} \
{platform.python_version()}, {cpus} CPUs shared by the load generator, the servers, PostgreSQL and
Kafka; loopback only; load average before the run {results["load_before"]}, after {load}).
One order-service process (real PostgreSQL, outbox relay on, telemetry
on with default sampling and exporters off); the user service is an HTTP stub in its own
process, so CreateOrder pays a real HTTP round trip to it. {args["concurrency"]} concurrent
callers over {args["channels"]} channels, {args["seconds"]:.0f} s per phase after a 1 s warm-up.

## RPCs

"server CPU" is the CPU time (user + system, all threads) the server process used during the
measured window divided by the calls in it: for CreateOrder it includes the relay publishing
the order's event, which runs in the same process. "stub CPU" is the user-service stub's.

| call | calls/s | p50 ms | p99 ms | errors | server CPU µs/call | stub CPU µs/call |
|---|---:|---:|---:|---:|---:|---:|
{bare.row()}
{create.row()}
{get.row()}
{listed.row()}

GetOrder keeps {get.throughput / bare.throughput:.0%} of the bare method's throughput;
CreateOrder {create.throughput / bare.throughput:.0%} (it verifies a token, calls the user service
over HTTP, prices the lines from the catalog and writes the order and its outbox row in one
statement).

## Outbox relay

{relays[0]["rows"]:,} events already in the outbox, one relay (batches of 500, idempotent
producer, acks=all) to a 3-partition topic, {len(relays)} runs: \
**{relay_median:,.0f} events/s** (median; runs: \
{", ".join(f"{rate:,.0f}" for rate in relay_rates)}; goal at least 5,000/s), \
{relay_cpu:.0f} µs of relay-process CPU per event.

## Commit to consumed

CreateOrder paced for {args["paced_seconds"]:.0f} s at each rate; latency from the event's
`occur_time` (stamped in the transaction that writes it) to its arrival at a Kafka consumer
(goal: p99 under 500 ms at 200 orders/s). "failed" counts paced calls that did not succeed
(when the offered rate exceeds what this machine sustains, calls queue, time out and the
user-service breaker opens).

| orders/s offered | sent | failed | events received | p50 ms | p99 ms | max ms |
|---:|---:|---:|---:|---:|---:|---:|
"""
        + "\n".join(
            f"| {m['rate']} | {m['sent']} | {m['failed']} | {m['received']} | {m['p50_ms']:.1f} | "
            f"{m['p99_ms']:.1f} | {m['max_ms']:.1f} |"
            for m in latency
        )
        + "\n"
    )
    # Hand-written reading notes below the marker survive a regeneration of the figures.
    previous = out.read_text() if out.exists() else ""
    if NOTES_MARKER in previous:
        text += "\n" + previous[previous.index(NOTES_MARKER) :]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
    (out.with_suffix(".json")).write_text(
        json.dumps(
            {
                "load_before": results["load_before"],
                "rpcs": {
                    r.name: {
                        "calls_per_second": r.throughput,
                        "p50_ms": r.percentile(0.5),
                        "p99_ms": r.percentile(0.99),
                        "errors": r.errors,
                        "cpu_us_per_call": r.cpu_us_per_call,
                    }
                    for r in (bare, create, get, listed)
                },
                "relay": relays,
                "commit_to_consumed": latency,
                "args": {key: str(value) for key, value in args.items()},
            },
            indent=2,
        )
        + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument(
        "--rates",
        type=lambda text: [int(rate) for rate in text.split(",")],
        default=[50, 200],
        help="paced CreateOrder rates for the commit-to-consumed phase (orders/s)",
    )
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument("--relay-rows", type=int, default=20_000)
    parser.add_argument("--relay-runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks" / "order.md")
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--user-stub", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        asyncio.run(serve_bare(args.bare_server))
        return
    if args.user_stub:
        serve_user_stub(int(args.user_stub[0]), args.user_stub[1])
        return
    results = asyncio.run(run(args))
    report(results, args.out)


if __name__ == "__main__":
    main()
