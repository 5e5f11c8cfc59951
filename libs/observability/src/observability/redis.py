"""Redis: contrib spans for every command of a client (redis-py asyncio).

Under a parent-based sampler, a command issued inside an unsampled trace would get a span that
is never recorded; the contrib wrapper formats the command's arguments and builds its name
first, about a third of a cached GET's client CPU. Such commands go straight to the client's
own ``execute_command``. Commands in sampled traces, or outside any trace, and pipelines get
exactly the contrib spans.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from observability.tracing import drops_children_of_unsampled, in_unsampled_trace

if TYPE_CHECKING:
    from observability.telemetry import Telemetry

__all__ = ["instrument_redis"]


def instrument_redis(client: Any, telemetry: Telemetry) -> Any:
    """Trace the commands of ``client`` (a ``redis.asyncio.Redis``) and return it.

    Cache hit/miss counting belongs to the cache adapter: ``telemetry.metrics.cache_hit(name)``.
    """
    from opentelemetry.instrumentation.redis import RedisInstrumentor  # noqa: PLC0415

    RedisInstrumentor.instrument_client(client, tracer_provider=telemetry.tracer_provider)
    if drops_children_of_unsampled(telemetry.settings):
        _skip_unsampled(client)
    return client


def _skip_unsampled(client: Any) -> None:
    traced = client.execute_command  # the contrib's wrapper, bound to this client
    plain = traced.__wrapped__  # the client's own method

    async def execute_command(*args: Any, **options: Any) -> Any:
        if in_unsampled_trace():
            return await plain(*args, **options)
        return await traced(*args, **options)

    # What the contrib's uninstrument_client restores.
    execute_command.__wrapped__ = plain  # type: ignore[attr-defined]
    client.execute_command = execute_command
