"""While a dependency is down, do the services say so cleanly? Readiness, HTTP and gRPC.

The promise of the stop-postgres drill: with the database gone, each service reports not ready
(/readyz 503 on its admin port, so a load balancer stops sending it traffic), a request that
needs the database gets 503 application/problem+json (never a 500 or a hang), and an RPC gets
UNAVAILABLE (the status a client may retry, never INTERNAL or UNKNOWN). The probe asks each of
them once, as a client would, and records what it saw as a `MethodCheck`.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import grpc
import httpx
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration

from threadline_chaos import checks, run_dir
from threadline_chaos.checks import MethodCheck
from threadline_chaos.endpoints import ADMIN_PORTS, endpoint
from threadline_contracts.order.v1 import order_pb2, order_pb2_grpc

__all__ = ["services_refuse_cleanly"]

TIMEOUT_SECONDS = 10.0  # far above a clean refusal; a hang shows as "no answer"
PROBLEM_JSON = "application/problem+json"
# The drill's Locust run prepared these (the same accounts as `make load`).
ACCOUNTS_FILE = "accounts.json"


def services_refuse_cleanly(
    *,
    dependency: str,
    ready_components: list[str] | None = None,
    readiness_wait_seconds: float = 10.0,
    readiness_urls: dict[str, str] | None = None,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Readiness false on every component, 503 problem+json from user, UNAVAILABLE from order.

    Fails the activity (and so the verdict) with what was seen when any of them is not so.
    readiness_urls overrides where a component's /readyz is (default: its admin port).
    """
    components = ready_components or ["user", "order"]
    urls = {c: f"http://127.0.0.1:{ADMIN_PORTS[c]}/readyz" for c in components}
    urls.update(readiness_urls or {})
    observations: list[tuple[str, str]] = []
    problems: list[str] = []
    for component in components:
        seen, problem = _readiness_turns_false(component, urls[component], readiness_wait_seconds)
        observations.append((f"{component} {urls[component]}", seen))
        problems += [problem] if problem else []
    seen, problem = _http_request_refused(endpoint(configuration, "user_url"))
    observations.append(("user POST /v1/auth/token", seen))
    problems += [problem] if problem else []
    seen, problem = _rpc_refused(endpoint(configuration, "order_target"))
    observations.append(("order ListOrders", seen))
    problems += [problem] if problem else []
    check = checks.record(
        MethodCheck(
            name=f"clean-refusals-{dependency}",
            held=not problems,
            summary="; ".join(problems)
            or (
                f"with {dependency} down: {', '.join(components)} not ready, HTTP 503 "
                f"{PROBLEM_JSON}, gRPC UNAVAILABLE"
            ),
            observations=tuple(observations),
        )
    )
    if not check.held:
        raise ActivityFailed(check.summary)  # a failed activity fails the verdict
    return {"held": check.held, "summary": check.summary, "observations": observations}


def _readiness_turns_false(component: str, url: str, wait_seconds: float) -> tuple[str, str | None]:
    """Poll /readyz until 503 (or wait_seconds): what was seen, and the problem if any."""
    began = time.monotonic()
    last = "no answer"
    while True:
        try:
            status = httpx.get(url, timeout=TIMEOUT_SECONDS).status_code
            last = str(status)
        except httpx.HTTPError as error:
            last = f"no answer ({type(error).__name__})"
            status = None
        waited = time.monotonic() - began
        if status == 503:
            return f"503 (not ready), seen after {waited:.1f} s", None
        if waited >= wait_seconds:
            return last, f"{component} /readyz answered {last}, not 503, for {waited:.0f} s"
        time.sleep(0.5)


def _http_request_refused(user_url: str) -> tuple[str, str | None]:
    """A token request for an account nobody has: it needs the database, so 503 problem+json."""
    body = {
        "email": f"chaos-probe-{uuid.uuid4().hex[:12]}@example.com",
        "password": uuid.uuid4().hex,
    }
    began = time.monotonic()
    try:
        response = httpx.post(f"{user_url}/v1/auth/token", json=body, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as error:
        seen = f"no answer in {time.monotonic() - began:.1f} s ({type(error).__name__})"
        return seen, f"user POST /v1/auth/token: {seen}, not 503"
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    took = time.monotonic() - began
    seen = f"{response.status_code} {content_type or 'no content type'} in {took:.2f} s"
    if response.status_code != 503 or content_type != PROBLEM_JSON:
        return seen, f"user POST /v1/auth/token answered {seen}, not 503 {PROBLEM_JSON}"
    return seen, None


def _rpc_refused(order_target: str) -> tuple[str, str | None]:
    """ListOrders with a load account's token: it needs the database, so UNAVAILABLE."""
    metadata = (("authorization", f"Bearer {_load_token()}"),)
    began = time.monotonic()
    with grpc.insecure_channel(order_target) as channel:
        stub = order_pb2_grpc.OrderServiceStub(channel)
        try:
            stub.ListOrders(
                order_pb2.ListOrdersRequest(page_size=1), metadata=metadata, timeout=TIMEOUT_SECONDS
            )
        except grpc.RpcError as error:
            code = error.code()
            seen = f"{code.name} in {time.monotonic() - began:.2f} s"
            if code is grpc.StatusCode.UNAVAILABLE:
                return seen, None
            return seen, f"order ListOrders failed with {code.name}, not UNAVAILABLE"
    seen = f"OK in {time.monotonic() - began:.2f} s"
    return seen, f"order ListOrders answered {seen} with the database down, not UNAVAILABLE"


def _load_token() -> str:
    path = run_dir.current() / run_dir.LOAD_DIR / ACCOUNTS_FILE
    try:
        accounts = json.loads(path.read_text())
        return str(accounts[0]["token"])
    except (OSError, ValueError, LookupError, TypeError) as error:
        raise ActivityFailed(
            f"no load account to call order with ({path.name}: {error}); "
            "the drill control prepares them"
        ) from error
