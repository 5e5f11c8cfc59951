"""Redis: contrib spans for every command of a client (redis-py asyncio)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from observability.telemetry import Telemetry

__all__ = ["instrument_redis"]


def instrument_redis(client: Any, telemetry: Telemetry) -> Any:
    """Trace the commands of ``client`` (a ``redis.asyncio.Redis``) and return it.

    Cache hit/miss counting belongs to the cache adapter: ``telemetry.metrics.cache_hit(name)``.
    """
    from opentelemetry.instrumentation.redis import RedisInstrumentor  # noqa: PLC0415

    RedisInstrumentor.instrument_client(client, tracer_provider=telemetry.tracer_provider)
    return client
