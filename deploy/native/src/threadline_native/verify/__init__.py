"""`make verify`: prove that every link between Threadline's signals works, end to end.

Traffic goes in two ways:

* a synthetic probe trace (two services, server -> client -> server) and one log line per span,
  sent as OTLP/HTTP JSON to the collector: it exercises every pipeline without the services;
* the real journeys through the running services (register, token, CreateOrder), each under a
  trace id chosen here and propagated with `traceparent`.

Then for every sampled trace it checks Tempo and Jaeger hold spans from each expected service,
Loki holds log lines with that trace_id for each of them, Prometheus holds exemplars whose
trace_id resolves in Tempo, span-metric and service-graph series exist, every dashboard panel's
query returns data and every datasource UID referenced anywhere exists. It prints a table and
exits 1 on any broken link.

    uv run --all-packages python -m threadline_native.verify            # everything
    uv run --all-packages python -m threadline_native.verify --backends-only
"""
