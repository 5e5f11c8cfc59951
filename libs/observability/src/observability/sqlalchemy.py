"""SQLAlchemy: contrib spans per statement, and the connection pool as a gauge."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from observability.telemetry import Telemetry

__all__ = ["instrument_engine", "pool_state"]


def instrument_engine(
    engine: AsyncEngine, telemetry: Telemetry, *, pool_name: str = "default"
) -> None:
    """Trace every statement on ``engine`` (contrib) and expose ``db_pool_connections``.

    The contrib ``EngineTracer`` is attached to this engine alone: going through
    ``SQLAlchemyInstrumentor().instrument()`` would patch ``create_engine`` process-wide and,
    being a singleton, ignore every engine after the first. SQL comments carrying trace context
    (sqlcommenter) stay off: they defeat statement caching. Connection counts come from the pool
    gauge, so the contrib OTel-metrics counter is given a no-op meter.
    """
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer  # noqa: PLC0415
    from opentelemetry.instrumentation.sqlalchemy.version import __version__  # noqa: PLC0415
    from opentelemetry.metrics import NoOpMeter  # noqa: PLC0415

    tracer = telemetry.tracer_provider.get_tracer(
        "opentelemetry.instrumentation.sqlalchemy", __version__
    )
    connections_usage = NoOpMeter("observability.sqlalchemy").create_up_down_counter(
        "db.client.connections.usage"
    )
    EngineTracer(tracer, engine.sync_engine, connections_usage, enable_commenter=False)  # type: ignore[no-untyped-call]
    telemetry.metrics.add_pool(pool_name, lambda: pool_state(engine))


def pool_state(engine: AsyncEngine) -> dict[str, float]:
    """The pool's counters now: checked_out, idle, overflow and size (those the pool has)."""
    pool = engine.sync_engine.pool
    state: dict[str, float] = {}
    for name, reader in (
        ("checked_out", "checkedout"),
        ("idle", "checkedin"),
        ("overflow", "overflow"),
        ("size", "size"),
    ):
        read = getattr(pool, reader, None)
        if callable(read):
            state[name] = float(read())
    return state
