"""What `make bench-order` measures, in one run: its options and the phases in order."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import uuid
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

from order_service.adapters.kafka_topics import ensure_topics
from order_service.adapters.migrations import upgrade_to_head
from threadline_benchmarks.harness.data_stores import fresh_database
from threadline_benchmarks.harness.page import load_average, portable
from threadline_benchmarks.order.events import KAFKA, relay_throughput
from threadline_benchmarks.order.rpcs import bare_phase, order_phases

__all__ = ["measure", "options"]


def options(parser: argparse.ArgumentParser) -> None:
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


def measure(args: argparse.Namespace) -> dict[str, Any]:
    return asyncio.run(_measure(args))


async def _measure(args: argparse.Namespace) -> dict[str, Any]:
    load_before = load_average()
    suffix = uuid.uuid4().hex[:8]
    topic = f"bench.orders.{suffix}"
    async with fresh_database(f"bench_orders_{suffix}") as url:
        try:
            await asyncio.to_thread(upgrade_to_head, url)
            await ensure_topics(KAFKA, {topic: 3})
            results: dict[str, Any] = {"load_before": load_before, "bare": await bare_phase(args)}
            results.update(await order_phases(args, url, topic))
            results["relay"] = []
            for _ in range(args.relay_runs):
                results["relay"].append(await relay_throughput(url, topic, rows=args.relay_rows))
                print(f"relay: {results['relay'][-1]}", flush=True)
            results["args"] = portable(vars(args))
        finally:
            client = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
            await client.start()
            with contextlib.suppress(Exception):
                await client.delete_topics([topic])
            await client.close()
    return results
