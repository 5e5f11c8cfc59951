"""orders.v1 read from the beginning, without a consumer group, up to its end offsets.

The reader keeps its position between reads, so waiting for the pipeline to go quiet reads each
record once. It joins no group and commits nothing: the user service's consumer never notices.
"""

from __future__ import annotations

import time
import uuid
from types import TracebackType

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from google.protobuf.message import DecodeError

from threadline_chaos.reconcile.facts import TopicEvent
from threadline_contracts.events.v1 import order_events_pb2


class TopicReadError(RuntimeError):
    """The topic could not be read to its end in time (the message says how far it got)."""


def decode_record(value: bytes | None) -> TopicEvent | None:
    """The event in one orders.v1 record value; None when it is not a readable order event."""
    try:
        event = order_events_pb2.OrderEvent.FromString(value or b"")
        kind = event.WhichOneof("payload")
        if kind not in ("created", "cancelled"):
            return None
        payload = event.created if kind == "created" else event.cancelled
        return TopicEvent(
            event_id=uuid.UUID(event.event_id),
            order_id=uuid.UUID(event.order_id),
            user_id=uuid.UUID(event.user_id),
            kind=kind,
            total_minor=payload.total_minor_units,
        )
    except (DecodeError, ValueError):
        return None


class TopicReader:
    """Reads one topic's records, all partitions, from the first offset on."""

    def __init__(self, *, bootstrap_servers: str, topic: str) -> None:
        self.topic = topic
        self.events: list[TopicEvent] = []
        self.undecodable = 0
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        # The admin client tells the partitions: the consumer's metadata only covers topics
        # it subscribes to, and this one assigns partitions instead.
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
        self._partitions: list[TopicPartition] = []

    async def __aenter__(self) -> TopicReader:
        await self._admin.start()
        try:
            await self._consumer.start()
        except BaseException:
            await self._admin.close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self._consumer.stop()
        finally:
            await self._admin.close()

    async def record_count(self, topic: str) -> int:
        """How many records `topic` holds now (end minus beginning offsets); 0 if absent."""
        partitions = await self._partitions_of(topic)
        if not partitions:
            return 0
        ends = await self._consumer.end_offsets(partitions)
        starts = await self._consumer.beginning_offsets(partitions)
        return sum(ends[p] - starts[p] for p in partitions)

    async def read_to_end(self, *, within_s: float = 30.0) -> list[TopicEvent]:
        """Read every record up to the end offsets as of now; all events read so far."""
        await self._assign_new_partitions()
        if not self._partitions:
            return self.events
        ends = await self._consumer.end_offsets(self._partitions)
        deadline = time.monotonic() + within_s
        while await self._behind(ends):
            if time.monotonic() > deadline:
                raise TopicReadError(
                    f"could not read {self.topic} to its end offsets {ends} in {within_s:.0f} s"
                )
            batches = await self._consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batches.values():
                for record in records:
                    event = decode_record(record.value)
                    if event is None:
                        self.undecodable += 1
                    else:
                        self.events.append(event)
        return self.events

    async def _behind(self, ends: dict[TopicPartition, int]) -> bool:
        for partition, end in ends.items():
            if await self._consumer.position(partition) < end:
                return True
        return False

    async def _assign_new_partitions(self) -> None:
        found = await self._partitions_of(self.topic)
        if set(found) <= set(self._partitions):
            return
        # assign() replaces the assignment and forgets positions: keep those already reached.
        reached = {p: await self._consumer.position(p) for p in self._partitions}
        added = [p for p in found if p not in reached]
        self._partitions = [*self._partitions, *added]
        self._consumer.assign(self._partitions)
        for partition, offset in reached.items():
            self._consumer.seek(partition, offset)
        await self._consumer.seek_to_beginning(*added)

    async def _partitions_of(self, topic: str) -> list[TopicPartition]:
        (description,) = await self._admin.describe_topics([topic])
        if description["error_code"]:  # the topic does not exist (yet): nothing to read
            return []
        ids = sorted(item["partition"] for item in description["partitions"])
        return [TopicPartition(topic, partition) for partition in ids]
