"""What the admin server's handlers answer: a `Reply`, JSON or RFC 9457 problem+json.

Shared by the server (`observability.admin`) and its /admin routes
(`observability.admin_routes`), so neither imports the other.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

import orjson

__all__ = ["PROBLEM_MEDIA_TYPE", "AdminRequest", "AdminRoutes", "Reply", "json_reply", "problem"]

PROBLEM_MEDIA_TYPE = "application/problem+json"
_TITLES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    503: "Service unavailable",
}


class Reply(NamedTuple):
    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


class AdminRequest(NamedTuple):
    """One request to an /admin path, authorised already (token or loopback peer)."""

    method: str
    path: str
    body: bytes
    peer: str


class AdminRoutes(Protocol):
    """Serves the paths under /admin/ (`observability.admin_routes.ControlRoutes`)."""

    async def handle(self, request: AdminRequest) -> Reply: ...


def json_reply(status: int, document: Any) -> Reply:
    return Reply(status, "application/json", orjson.dumps(document))


def problem(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    field: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Reply:
    """A problem+json reply; ``field`` adds ``errors: [{"detail", "pointer": "#/field"}]``."""
    slug = slug or _TITLES.get(status, "error").lower().replace(" ", "-")
    document: dict[str, Any] = {
        "type": f"urn:threadline:problem:{slug}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if field is not None:
        document["errors"] = [{"detail": detail, "pointer": f"#/{field}" if field != "#" else "#"}]
    return Reply(status, PROBLEM_MEDIA_TYPE, orjson.dumps(document), headers)
