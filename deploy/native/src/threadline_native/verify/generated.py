"""Journeys through the services made by `make new-service` (deploy/services.yaml).

Each one creates an item and reads it back under a trace id chosen here, through the example
aggregate every generated service starts with: POST/GET /v1/items over HTTP, or
CreateItem/GetItem over gRPC with the stubs `make proto` generated for it.
"""

from __future__ import annotations

import importlib
import secrets
import time

import grpc

from threadline_native.paths import find_project_root
from threadline_native.scaffold.registry import Entry, load_registry
from threadline_native.verify.http import request
from threadline_native.verify.journeys import (
    GRPC_TIMEOUT_SECONDS,
    Journey,
    JourneyError,
    new_traceparent,
)


def generated_entries() -> list[Entry]:
    return load_registry(find_project_root()).generated()


def latency_histograms() -> list[tuple[str, str]]:
    """(name, selector) of each generated service's latency histogram, for the exemplar check."""
    return [
        (
            f"{e.name} {'HTTP' if e.kind == 'http' else 'gRPC'} latency",
            f'{_histogram(e)}_bucket{{service="{e.name}"}}',
        )
        for e in generated_entries()
    ]


def _histogram(entry: Entry) -> str:
    if entry.kind == "http":
        return "http_server_request_duration_seconds"
    return "grpc_server_handling_seconds"


def _http_journey(entry: Entry) -> tuple[str, str]:
    trace_id, header = new_traceparent()
    base = f"http://127.0.0.1:{entry.port}/v1/items"
    status, body = request(
        "POST",
        base,
        body={"name": f"verify {secrets.token_hex(4)}"},
        headers={"traceparent": header},
    )
    if status != 201:
        raise JourneyError(f"{entry.name} POST /v1/items answered {status}: {body}")
    status, body = request("GET", f"{base}/{body['id']}", headers={"traceparent": header})
    if status != 200:
        raise JourneyError(f"{entry.name} GET /v1/items/{{id}} answered {status}: {body}")
    return trace_id, str(status)


def _grpc_journey(entry: Entry) -> tuple[str, str]:
    trace_id, header = new_traceparent()
    messages = importlib.import_module(f"threadline_contracts.{entry.name}.v1.{entry.name}_pb2")
    stubs = importlib.import_module(f"threadline_contracts.{entry.name}.v1.{entry.name}_pb2_grpc")
    camel = "".join(part.capitalize() for part in entry.name.split("_"))
    metadata = (("traceparent", header),)
    with grpc.insecure_channel(f"127.0.0.1:{entry.port}") as channel:
        stub = getattr(stubs, f"{camel}ServiceStub")(channel)
        try:
            item = stub.CreateItem(
                messages.CreateItemRequest(name=f"verify {secrets.token_hex(4)}"),
                metadata=metadata,
                timeout=GRPC_TIMEOUT_SECONDS,
            )
            stub.GetItem(
                messages.GetItemRequest(id=item.id), metadata=metadata, timeout=GRPC_TIMEOUT_SECONDS
            )
        except grpc.RpcError as error:
            raise JourneyError(f"{entry.name} CreateItem/GetItem answered {error}") from None
    return trace_id, "OK"


def journeys() -> list[Journey]:
    """One create-and-read journey per generated service."""
    done = []
    for entry in generated_entries():
        started = time.time()
        trace_id, outcome = (_http_journey if entry.kind == "http" else _grpc_journey)(entry)
        red = f'sum(rate({_histogram(entry)}_count{{service="{entry.name}"}}[5m]))'
        edge = "HTTP" if entry.kind == "http" else "gRPC"
        done.append(
            Journey(
                f"create an item ({entry.name}, {edge})",
                trace_id,
                (entry.name,),
                started,
                red,
                outcome,
            )
        )
    return done
