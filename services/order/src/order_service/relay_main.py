"""Composition root of the outbox relay's own process (`order-service relay`).

The same relay the gRPC service runs in-process when ``ORDER_RELAY_ENABLED`` is true (the
default: tests, a one-process run), here alone: the stacks run it as a process of its own, so it
can be stopped, frozen or scaled without touching the gRPC service. It keeps the service's name
("order") and telemetry and serves its admin port on ``ORDER_RELAY_ADMIN_PORT`` (9103):
ready while PostgreSQL answers and the relay holds a Kafka connection; SIGTERM finishes the
batch in flight, flushes telemetry and exits 0.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

from observability import Telemetry, setup
from order_service.adapters.metrics import RelayMetrics
from order_service.adapters.relay import OutboxRelay
from order_service.main import build_relay, open_database, start_relay
from order_service.settings import Settings

_log = logging.getLogger(__name__)


def relay_settings(settings: Settings) -> Settings:
    """The service's settings with the relay process's admin port in place of the service's."""
    return settings.model_copy(update={"admin_port": settings.relay_admin_port})


async def build_relay_process(
    settings: Settings, telemetry: Telemetry, stack: AsyncExitStack
) -> OutboxRelay:
    """Open the database, then start the relay; the stack stops it and closes the engine."""
    engine = await open_database(settings, telemetry, stack)
    relay = build_relay(settings, telemetry, engine, RelayMetrics(telemetry.metrics))
    start_relay(relay, telemetry, stack, kafka_critical=True)
    return relay


async def run_relay(settings: Settings) -> None:
    """Run the outbox relay alone until SIGTERM/SIGINT, then finish its batch and exit."""
    settings = relay_settings(settings)
    telemetry = setup(settings)
    async with AsyncExitStack() as stack:
        await build_relay_process(settings, telemetry, stack)
        telemetry.mark_started()
        _log.info("order outbox relay running", extra={"admin.port": settings.admin_port})
        await telemetry.run_until_shutdown()
