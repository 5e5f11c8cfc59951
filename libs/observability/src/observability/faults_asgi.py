"""Fault flags on the HTTP edge: a pure-ASGI middleware that delays or fails flagged routes.

`observability.fastapi.instrument_app` puts it just inside the tracing middleware, so a
faulted request still has its SERVER span (marked ``fault.injected``), its RED observation and
its access line. The flag's target is ``METHOD /route/template`` (convertors left out:
``{user_id}`` for ``{user_id:uuid}``); the template is found by
asking the app's routes which one matches, as Starlette's router would, and only while a flag
is set: with none, a request pays one truth test.

An injected failure is a 503 ``application/problem+json`` whose ``type`` ends in
``injected-fault``, so a client, a test or a drill can tell it from a real outage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import orjson
from starlette.routing import Match

from observability.faults import route_key
from observability.metrics import http_method_label

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from observability.faults import FaultRegistry, Injection

__all__ = ["INJECTED_FAULT_TYPE", "FaultInjectionMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

INJECTED_FAULT_TYPE: Final = "urn:threadline:problem:injected-fault"


class FaultInjectionMiddleware:
    """Applies the `FaultRegistry`'s flags to the routes ``routes()`` returns."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        faults: FaultRegistry,
        routes: Callable[[], Sequence[BaseRoute]],
        excluded_paths: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self._faults = faults
        self._routes = routes
        self._excluded = excluded_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._faults.any_set or scope["type"] != "http" or scope["path"] in self._excluded:
            await self.app(scope, receive, send)
            return
        route = self._match(scope)
        template = route_key(getattr(route, "path", None) or scope["path"])
        injection = self._faults.injection(f"{http_method_label(scope['method'])} {template}")
        if injection is None:
            await self.app(scope, receive, send)
            return
        if injection.delay_seconds:
            await asyncio.sleep(injection.delay_seconds)
        if not injection.fail:
            await self.app(scope, receive, send)
            return
        if route is not None:
            scope["route"] = route  # what the router would have set: the RED metric's label
        await _send_injected_failure(send, injection)

    def _match(self, scope: Scope) -> BaseRoute | None:
        for route in self._routes():
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return route
        return None


async def _send_injected_failure(send: Send, injection: Injection) -> None:
    fault = injection.fault
    body = orjson.dumps(
        {
            "type": INJECTED_FAULT_TYPE,
            "title": "Injected fault",
            "status": 503,
            "detail": f"fault flag {fault.id} on {fault.target!r} failed this request on purpose",
            "fault_id": fault.id,
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
