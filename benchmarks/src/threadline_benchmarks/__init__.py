"""Threadline's benchmarks in one place: one shared harness, one small module per benchmark.

Every `make bench-*` target runs ``python -m threadline_benchmarks NAME [options]`` (the names:
``python -m threadline_benchmarks --list``) and writes its page under docs/benchmarks/.

The harness (``threadline_benchmarks.harness``):

- ``processes``: free ports, spawning and stopping processes, readiness, CPU time from /proc,
  pinning (taskset) and priority;
- ``closed_loop``: N concurrent callers for a while, throughput, percentiles, server CPU/call;
- ``schedule``: arms taking turns within a round and rotating round by round;
- ``ratios``: each arm against the baseline of the same round (median of per-round ratios);
- ``wrk``: wrk runs read back as figures, combined over turns;
- ``page``: the page and its JSON under docs/benchmarks/ (hand-written notes kept), the run's
  machine, commit and load;
- ``data_stores``: the stack's PostgreSQL/Redis/Kafka, a fresh database per run;
- ``service_benchmark``: a service's benchmark declared as a `ServiceBenchmark` (data stores,
  options, measure, page) and run by `run_benchmark`.

A service plugs in with one module, as ``threadline_benchmarks.order.benchmark`` does::

    BENCHMARK = ServiceBenchmark(
        name="order",
        summary="Order service: RPC throughput/p99 vs bare grpc.aio, ...",
        data_stores=("postgres", "kafka"),
        options=options,
        measure=measure,
        write=lambda results, args: report(results, args.out),
    )

and one line in ``threadline_benchmarks.cli.BENCHMARKS``.
"""
