"""Composition root of the orders.v1 consumer's own process (`user-service consume`).

The same consumer the HTTP service runs in-process when ``USER_ORDERS_CONSUMER_ENABLED`` is true
(the default: tests, a one-process run), here alone: the stacks run it as a process of its own,
so it can be stopped, frozen or scaled on its lag without touching the API. It keeps the
service's name ("user") and telemetry and serves its admin port on
``USER_ORDERS_CONSUMER_ADMIN_PORT`` (9104): ready while PostgreSQL answers and the consumer holds
its Kafka group membership; SIGTERM finishes the record in hand, commits, leaves the group,
flushes telemetry and exits 0. It writes the statistics through the `users` database and
invalidates the Redis tier of the user cache, which tells every API replica's near cache.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

from observability import Telemetry, setup
from user_service.adapters.order_events import OrderEventsConsumer, order_events_consumer
from user_service.main import open_database, open_redis, redis_user_cache, start_orders_consumer
from user_service.settings import Settings

_log = logging.getLogger(__name__)


def consumer_settings(settings: Settings) -> Settings:
    """The service's settings with the consumer process's admin port in place of the API's."""
    return settings.model_copy(update={"admin_port": settings.orders_consumer_admin_port})


async def build_consumer_process(
    settings: Settings, telemetry: Telemetry, stack: AsyncExitStack
) -> OrderEventsConsumer:
    """Open the database and Redis, then start the consumer; the stack stops and closes them."""
    engine = await open_database(settings, telemetry, stack)
    redis = open_redis(settings, telemetry, stack)
    consumer = order_events_consumer(
        settings, telemetry, engine=engine, cache=redis_user_cache(settings, telemetry, redis)
    )
    start_orders_consumer(consumer, telemetry, stack, kafka_critical=True)
    return consumer


async def run_consumer(settings: Settings) -> None:
    """Run the orders.v1 consumer alone until SIGTERM/SIGINT, then finish and exit."""
    settings = consumer_settings(settings)
    telemetry = setup(settings)
    async with AsyncExitStack() as stack:
        await build_consumer_process(settings, telemetry, stack)
        telemetry.mark_started()
        _log.info("user orders consumer running", extra={"admin.port": settings.admin_port})
        await telemetry.run_until_shutdown()
