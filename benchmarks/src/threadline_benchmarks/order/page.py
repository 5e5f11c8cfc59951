"""The order benchmark's page: docs/benchmarks/order.md and order.json."""

from __future__ import annotations

import os
import platform
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from threadline_benchmarks.harness.closed_loop import CallFigures
from threadline_benchmarks.harness.page import load_average, write_page

__all__ = ["report", "row"]


def row(figures: CallFigures) -> str:
    """One call's row of the RPC table."""
    cpu = figures.cpu_us_per_call
    return (
        f"| {figures.name} | {figures.throughput:,.0f} | {figures.percentile(0.5):.2f} | "
        f"{figures.percentile(0.99):.2f} | {figures.errors} | {cpu.get('server', 0):,.0f} | "
        f"{cpu.get('user-service stub', 0):,.0f} |"
    )


def report(results: dict[str, Any], out: Path) -> None:
    bare, create, get, listed = (results[name] for name in ("bare", "create", "get", "list"))
    latency, relays, args = results["latency"], results["relay"], results["args"]
    relay_rates = sorted(run["events_per_second"] for run in relays)
    relay_median = statistics.median(relay_rates)
    relay_cpu = statistics.median(run["cpu_us_per_event"] for run in relays)
    cpus = os.cpu_count()
    load = load_average()
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
{row(bare)}
{row(create)}
{row(get)}
{row(listed)}

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
    print(text)
    write_page(
        out,
        text,
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
    )
