"""Refuse request bodies over a size limit with 413, before they are buffered.

A declared Content-Length over the limit is refused at once; a chunked body is counted as it
arrives and refused the moment it crosses the limit, so no body larger than the limit is ever
held in memory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

from user_service.api.problems import problem_response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

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

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised inside the app's body read; FastAPI passes HTTPExceptions through
                    # to the problem handler.
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)
