"""Pure ASGI middleware, one per module (as in Starlette)."""
