"""Refuse request bodies over a size limit with 413, and bodies arriving too slowly with 408.

A declared Content-Length over the limit is refused at once; a chunked body is counted as it
arrives and refused the moment it crosses the limit, so no body larger than the limit is ever
held in memory. The whole body must have arrived within the body timeout of the request's
start, however it is trickled (slowloris): the 408 then closes the connection, so the rest of
the body is never read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

from user_service.api.problems import problem_response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_log = logging.getLogger(__name__)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyTooSlow(HTTPException):
    def __init__(self, timeout_seconds: float) -> None:
        super().__init__(
            408,
            f"the request body did not arrive within {timeout_seconds:g} s "
            "(USER_HTTP_BODY_TIMEOUT_SECONDS)",
            # The rest of the body is not read: the connection cannot carry another request.
            headers={"Connection": "close"},
        )


class BodyLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, body_timeout_seconds: float = 20.0
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout_seconds = body_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        # The server has already refused a malformed Content-Length with 400.
        declared = next(
            (value for name, value in scope["headers"] if name == b"content-length"), b""
        )
        if declared.isdigit() and int(declared) > limit:
            await problem_response(413, BodyTooLarge(limit).detail)(scope, receive, send)
            return
        received = 0
        deadline = time.monotonic() + self.body_timeout_seconds

        async def counting_receive() -> Message:
            nonlocal received
            try:
                async with asyncio.timeout(max(deadline - time.monotonic(), 0.0)):
                    message = await receive()
            except TimeoutError:
                refusal = BodyTooSlow(self.body_timeout_seconds)
                _log.warning(
                    "request refused",
                    extra={"http.response.status_code": 408, "reason": refusal.detail},
                )
                raise refusal from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised inside the app's body read; FastAPI passes HTTPExceptions through
                    # to the problem handler.
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)
