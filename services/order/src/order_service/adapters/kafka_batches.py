"""Records grouped into one Kafka record batch per partition and sent with ``send_batch``.

``AIOKafkaProducer.send`` costs a coroutine, a metadata check, a partitioner call and a
future for every record. The relay publishes hundreds of rows at a time, so it builds the
batches itself: one ``BatchBuilder`` per partition, records placed by the producer's default
partitioner (murmur2 of the key, as ``send`` does, so a user's events keep one partition and
their order), and a fresh builder whenever one is full. Delivery is then one future per batch.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol

from aiokafka.partitioner import DefaultPartitioner


class BatchProducer(Protocol):
    """What batching needs of an ``aiokafka.AIOKafkaProducer``."""

    def create_batch(self) -> Any: ...

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> Awaitable[Any]: ...

    async def partitions_for(self, topic: str) -> set[int]: ...


class PartitionBatches:
    def __init__(self, producer: BatchProducer) -> None:
        self._producer = producer
        self._partitioner = DefaultPartitioner()
        self._partitions: dict[str, list[int]] = {}
        self._open: dict[tuple[str, int], Any] = {}
        self._deliveries: list[Awaitable[Any]] = []

    async def add(
        self, topic: str, *, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        """Append one record to its partition's batch (sending that batch first if full)."""
        partitions = self._partitions.get(topic)
        if partitions is None:
            partitions = self._partitions[topic] = sorted(
                await self._producer.partitions_for(topic)
            )
        partition: int = self._partitioner(key, partitions, partitions)
        batch = self._open.get((topic, partition))
        if batch is not None and _append(batch, key, value, headers):
            return
        if batch is not None:
            await self._send(topic, partition)
        batch = self._open[topic, partition] = self._producer.create_batch()
        if not _append(batch, key, value, headers):
            raise ValueError(f"a record for {topic} is larger than a whole batch")

    async def send(self) -> list[Awaitable[Any]]:
        """Send every open batch; the delivery futures of all batches sent."""
        for topic, partition in list(self._open):
            await self._send(topic, partition)
        return self._deliveries

    async def _send(self, topic: str, partition: int) -> None:
        batch = self._open.pop((topic, partition))
        batch.close()
        self._deliveries.append(await self._producer.send_batch(batch, topic, partition=partition))


def _append(batch: Any, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> bool:
    return batch.append(key=key, value=value, timestamp=None, headers=headers) is not None
