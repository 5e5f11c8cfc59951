"""The `Allow` header of a 405: every method the requested path serves (RFC 9110, 15.5.6).

Starlette answers a method no route serves with the methods of the first route whose path
matched, so where routes share a path (GET and POST /v1/users) a 405 listed only one of them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Match, Route


def allowed_methods(request: Request) -> list[str]:
    """The methods of every route whose path matches the request's, sorted."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches(request.scope)
            if match is not Match.NONE:
                methods |= route.methods
    return sorted(methods)
