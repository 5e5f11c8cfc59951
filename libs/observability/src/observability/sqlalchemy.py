"""SQLAlchemy: contrib spans per statement, the connection pool as a gauge, readiness on it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.trace import Status, StatusCode

from observability.redaction import Redactor
from observability.tracing import drops_children_of_unsampled, in_unsampled_trace

if TYPE_CHECKING:
    from contextlib import AsyncExitStack

    from sqlalchemy.ext.asyncio import AsyncEngine

    from observability.telemetry import Telemetry

__all__ = [
    "ParentFollowingEngineTracer",
    "RedactingEngineTracer",
    "instrument_engine",
    "open_engine",
    "pool_state",
]

StartupCheck = Callable[["AsyncEngine"], Awaitable[object]]
"""Run once on the new engine before it serves (e.g. refusing a database not at migration head)."""


async def open_engine(
    engine: AsyncEngine,
    telemetry: Telemetry,
    stack: AsyncExitStack,
    *,
    pool_name: str,
    startup_check: StartupCheck | None = None,
    check_name: str = "postgres",
) -> AsyncEngine:
    """Put a service's engine to work: instrumented, disposed of by ``stack``, in readiness.

    ``startup_check`` runs before the engine is handed back (a failure there fails start-up,
    with the engine already on the stack to be disposed of); readiness then asks the database
    for ``SELECT 1`` under the check ``check_name``.
    """
    stack.push_async_callback(engine.dispose)
    instrument_engine(engine, telemetry, pool_name=pool_name)
    if startup_check is not None:
        await startup_check(engine)

    async def database_answers() -> None:
        async with engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")

    telemetry.health.add_check(check_name, database_answers)
    return engine


def instrument_engine(
    engine: AsyncEngine, telemetry: Telemetry, *, pool_name: str = "default"
) -> None:
    """Trace every statement on ``engine`` (contrib) and expose ``db_pool_connections``.

    The contrib ``EngineTracer`` is attached to this engine alone: going through
    ``SQLAlchemyInstrumentor().instrument()`` would patch ``create_engine`` process-wide and,
    being a singleton, ignore every engine after the first. SQL comments carrying trace context
    (sqlcommenter) stay off: they defeat statement caching. Connection counts come from the pool
    gauge, so the contrib OTel-metrics counter is given a no-op meter. A failed statement's
    span status is redacted like a log line (`RedactingEngineTracer`).
    """
    from opentelemetry.instrumentation.sqlalchemy.version import __version__  # noqa: PLC0415
    from opentelemetry.metrics import NoOpMeter  # noqa: PLC0415

    tracer = telemetry.tracer_provider.get_tracer(
        "opentelemetry.instrumentation.sqlalchemy", __version__
    )
    connections_usage = NoOpMeter("observability.sqlalchemy").create_up_down_counter(
        "db.client.connections.usage"
    )
    tracer_class = (
        ParentFollowingEngineTracer
        if drops_children_of_unsampled(telemetry.settings)
        else RedactingEngineTracer
    )
    tracer_class(
        tracer,
        engine.sync_engine,
        connections_usage,
        enable_commenter=False,
        redactor=telemetry.redactor,
    )
    telemetry.metrics.add_pool(pool_name, lambda: pool_state(engine))


# Pool events the contrib tracer listens to only to feed its connection-usage counter.
_POOL_EVENTS = frozenset({"connect", "close", "checkin", "checkout"})


class RedactingEngineTracer(EngineTracer):
    """The contrib tracer, with a failed statement's error status redacted like a log line.

    The contrib listener puts the driver's own message in the span status, and PostgreSQL's
    names the values of the row that failed (``DETAIL:  Key (email)=(...)``).
    """

    def __init__(self, tracer: Any, engine: Any, *args: Any, redactor: Redactor, **kw: Any) -> None:
        self._redactor = redactor
        super().__init__(tracer, engine, *args, **kw)  # type: ignore[no-untyped-call]
        # In place of the contrib listener, which `_register_event_listener` leaves out; the
        # base class's registration, so that `remove_all_event_listeners` still finds it.
        EngineTracer._register_event_listener(  # type: ignore[no-untyped-call]
            engine, "handle_error", self._end_failed_statement_span
        )

    @classmethod
    def _register_event_listener(
        cls, target: Any, identifier: str, func: Any, *args: Any, **kw: Any
    ) -> None:
        if identifier == "handle_error":
            return
        super()._register_event_listener(target, identifier, func, *args, **kw)  # type: ignore[no-untyped-call]

    def _end_failed_statement_span(self, context: Any) -> None:
        # The contrib listener, except for the status text.
        span = getattr(context.execution_context, "_otel_span", None)
        if span is None:
            return
        if span.is_recording():
            description = self._redactor.text(str(context.original_exception))
            span.set_status(Status(StatusCode.ERROR, description))
        span.end()


class ParentFollowingEngineTracer(RedactingEngineTracer):
    """The contrib tracer, minus its work for statements whose span would never be recorded.

    Before it starts a span the contrib tracer builds the statement's attributes (URL, database
    name, operation name): some 280 Python calls per statement, sampled or not. Under a
    parent-based sampler the span of a statement inside an unsampled trace is dropped anyway, so
    that work is skipped there; statements in sampled traces, or outside any trace, get exactly
    the contrib span. The four pool listeners feed a no-op counter here (the pool is a gauge read
    at scrape time) and are not registered: each costs an event dispatch per checkout and checkin.
    """

    def _before_cur_exec(  # noqa: PLR0917 - SQLAlchemy's event signature
        self,
        conn: Any,
        cursor: Any,
        statement: Any,
        params: Any,
        context: Any,
        executemany: bool,
    ) -> tuple[Any, Any]:
        if in_unsampled_trace():
            return statement, params
        result: tuple[Any, Any] = super()._before_cur_exec(  # type: ignore[no-untyped-call]
            conn, cursor, statement, params, context, executemany
        )
        return result

    @classmethod
    def _register_event_listener(
        cls, target: Any, identifier: str, func: Any, *args: Any, **kw: Any
    ) -> None:
        if identifier in _POOL_EVENTS:
            return
        super()._register_event_listener(target, identifier, func, *args, **kw)


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
