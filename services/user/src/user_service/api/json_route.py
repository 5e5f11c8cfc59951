"""JSON bodies decoded so that a byte that is not UTF-8 reaches the schema, which names its field.

Starlette decodes a body with ``json.loads(bytes)``, which refuses the whole document at its
first byte that is not UTF-8: a 400 that names nothing. Decoded here with ``surrogateescape``,
each such byte becomes an unpaired surrogate inside the string that held it, and the text rule
every schema applies (`api.schemas.StorableText`) refuses that field with a 422 naming it, as it
refuses a NUL or an escaped lone surrogate (``"\\ud800"``). Bodies in UTF-16 or UTF-32 (which
``json.loads`` also detects) are decoded as it decodes them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

__all__ = ["JsonTextRoute", "decode_json_body"]


def decode_json_body(body: bytes) -> Any:
    """The JSON document in ``body``; undecodable UTF-8 bytes become unpaired surrogates."""
    encoding = json.detect_encoding(body)
    errors = "surrogateescape" if encoding.startswith("utf-8") else "surrogatepass"
    return json.loads(body.decode(encoding, errors))


class _JsonTextRequest(Request):
    async def json(self) -> Any:
        # Starlette's own cache attribute, so the body is decoded once however often it is read.
        if not hasattr(self, "_json"):
            self._json = decode_json_body(await self.body())
        return self._json


class JsonTextRoute(APIRoute):
    """The route class of every router: its endpoint reads JSON through `decode_json_body`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_json_text(request: Request) -> Response:
            return await handle(_JsonTextRequest(request.scope, request.receive))

        return handle_json_text
