"""Asking the trace store (Jaeger or Tempo) whether the slowest traces arrived, and whose spans."""

from __future__ import annotations

import httpx

from threadline_loadtests.trace_lookup import find_traces

KNOWN = "a" * 32
MISSING = "b" * 32


def tempo(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/ready":
        return httpx.Response(200, text="ready")
    if request.url.path == f"/api/traces/{KNOWN}":
        return httpx.Response(
            200,
            json={
                "batches": [resource("order"), resource("threadline-loadtests"), resource("order")]
            },
        )
    return httpx.Response(404)


def resource(service: str) -> dict[str, object]:
    return {
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "scopeSpans": [],
    }


def test_names_the_services_of_a_found_trace_and_admits_a_missing_one() -> None:
    lookups = find_traces(
        "http://tempo.test",
        [KNOWN, MISSING, KNOWN],
        wait_seconds=0,
        transport=httpx.MockTransport(tempo),
    )

    assert lookups is not None
    assert [(lookup.trace_id, lookup.services) for lookup in lookups] == [
        (KNOWN, ("order", "threadline-loadtests")),
        (MISSING, ()),
    ]
    assert not lookups[1].found


def jaeger(request: httpx.Request) -> httpx.Response:
    """Jaeger's query API as the native stack answers it (no /ready, a trace as data[0])."""
    if request.url.path == "/api/services":
        return httpx.Response(200, json={"data": ["order", "user"], "total": 2})
    if request.url.path == f"/api/traces/{KNOWN}":
        spans = [{"spanID": "1", "processID": "p1"}, {"spanID": "2", "processID": "p2"}]
        processes = {"p1": {"serviceName": "user"}, "p2": {"serviceName": "order"}}
        return httpx.Response(
            200, json={"data": [{"traceID": KNOWN, "spans": spans, "processes": processes}]}
        )
    return httpx.Response(
        404, json={"data": None, "errors": [{"code": 404, "msg": "trace not found"}]}
    )


def test_jaeger_is_recognised_and_its_traces_name_their_services() -> None:
    lookups = find_traces(
        "http://jaeger.test",
        [KNOWN, MISSING],
        wait_seconds=0,
        transport=httpx.MockTransport(jaeger),
    )

    assert lookups is not None
    assert [(lookup.trace_id, lookup.services, lookup.store) for lookup in lookups] == [
        (KNOWN, ("order", "user"), "Jaeger"),
        (MISSING, (), "Jaeger"),
    ]


def test_without_tempo_there_is_nothing_to_say() -> None:
    down = httpx.MockTransport(lambda request: httpx.Response(503))

    assert find_traces("http://tempo.test", [KNOWN], wait_seconds=0, transport=down) is None
