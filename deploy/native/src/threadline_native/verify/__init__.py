"""`make verify`: prove that every link between Threadline's signals works, end to end.

It first asks each component it talks to whether it answers, and stops there when one does not
("VictoriaLogs is not answering on :9428 — run `make up`", exit 1). Then traffic goes in:

* a synthetic probe trace (verify-order -> verify-user: server, client, server) and one log
  line per span, sent as OTLP/HTTP JSON to the collector: every pipeline, without the services;
* the journeys through the running services, each under a trace id chosen here and propagated
  with `traceparent`: register, log in (token), read a user (GET /v1/users/{id} with the
  token), create an order (gRPC -> HTTP -> Kafka -> consumer), and two refusals on purpose:
  CreateOrder for a product that does not exist, and POST /v1/users with a NUL in full_name.

Then, for every trace, in the stores of the mode `make up` recorded (.threadline/state/mode):

====================  ======================================  ================================
link                  native                                  compose (adds)
====================  ======================================  ================================
trace stored whole    Jaeger /api/traces/<id>: spans of       Tempo too
                      every service; CreateOrder also holds
                      order's producer and user's consumer
                      span (the Kafka hop)
logs by trace_id      VictoriaLogs, per service               Loki too
                      (`trace_id:="<id>" AND
                      "service.name":="user"`); a refusal
                      needs a warning/error line of the
                      refusing service, not only the access
                      line
exemplars             each of ours on the services' latency   same (Jaeger runs in both)
                      histograms is a trace Jaeger holds
span metrics          traces_spanmetrics_calls_total per      same
                      service
service graph         Jaeger /api/dependencies: order ->      traces_service_graph_request_total
                      user, verify-order -> verify-user       instead
dashboards            every PromQL panel returns data; panels LogQL and service-graph panels
                      on Tempo's service-graph series and     run too
                      LogQL panels: "compose only"
SLO rules             every rule healthy; every recording     same
                      rule's series has data
alerts                Alertmanager routes a page to the       same
                      webhook recorder
====================  ======================================  ================================

It prints a table (ok / BROKEN / compose only / skipped) and exits 1 on any BROKEN row, then
the links a person opens for each journey: the trace (Jaeger's UI under compose; natively its
API, since the native build has no UI bundle), the waterfall picture
(reports/verify/<journey>-<trace id[:8]>.png), the VictoriaLogs UI on the trace's records, and
the Prometheus query of the journey's requests (natively the /api/v1/query URL: no UI there
either).

    uv run --all-packages python -m threadline_native.verify                  # everything
    uv run --all-packages python -m threadline_native.verify --backends-only  # the probe only
    uv run --all-packages python -m threadline_native.verify --mode compose   # override the mode
"""
