"""The outbox backlog, watched: `outbox_backlog_events` and `outbox_oldest_event_age_seconds`.

The gRPC service runs the watch, not the relay: the process that writes the outbox keeps
reporting its backlog while the relay is stopped, frozen or cut off from Kafka, which is exactly
when the backlog matters (with the relay in a process of its own, a frozen relay would otherwise
take its gauges down with it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from order_service.adapters.metrics import OrderMetrics

_log = logging.getLogger(__name__)

_BACKLOG = text(
    "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM outbox"
)


class OutboxBacklogWatch:
    """Reads the backlog every ``interval_seconds`` into the two gauges until stopped."""

    def __init__(self, *, engine: AsyncEngine, metrics: OrderMetrics, interval_seconds: float):
        self._engine = engine
        self._metrics = metrics
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-backlog")

    async def stop(self, _seconds_left: float = 0.0) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def read_once(self) -> None:
        """One reading of the backlog into the gauges."""
        async with self._engine.connect() as connection:
            count, age = (await connection.execute(_BACKLOG)).one()
        self._metrics.outbox_backlog.set(count)
        self._metrics.outbox_oldest_age.set(float(age))

    async def _run(self) -> None:
        while True:
            try:
                await self.read_once()
            except Exception:
                _log.warning("cannot read the outbox backlog", exc_info=True)
            await asyncio.sleep(self._interval)
