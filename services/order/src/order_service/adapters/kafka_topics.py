"""Create the Kafka topics a service needs, idempotently (the broker never auto-creates them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import for_code

_NO_ERROR: Final = 0
_TOPIC_ALREADY_EXISTS: Final = 36


async def ensure_topics(
    bootstrap_servers: str, partitions_by_topic: Mapping[str, int], *, timeout_ms: int = 5000
) -> None:
    """Create each topic that does not exist yet; an existing topic is left as it is."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        request_timeout_ms=timeout_ms,
        client_id="ensure-topics",
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(topic, partitions, replication_factor=1)
            for topic, partitions in partitions_by_topic.items()
            if topic not in existing
        ]
        if not wanted:
            return
        response = await admin.create_topics(wanted, timeout_ms=timeout_ms)
        for topic, code, *_ in response.topic_errors:
            # Another instance may have created it between our listing and our request.
            if code not in (_NO_ERROR, _TOPIC_ALREADY_EXISTS):
                raise for_code(code)(f"creating topic {topic}")
    finally:
        await admin.close()
