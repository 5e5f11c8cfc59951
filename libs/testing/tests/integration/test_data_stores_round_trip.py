"""Real data round-trips through the three servers every service depends on."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy.ext.asyncio import create_async_engine


async def test_postgres_round_trips_rows_through_sqlalchemy_async(database_url: str) -> None:
    engine = create_async_engine(database_url)
    metadata = sa.MetaData()
    notes = sa.Table(
        "notes",
        metadata,
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
    )
    note_id = uuid.uuid4()
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await connection.execute(notes.insert().values(id=note_id, body="héllo"))
        async with engine.connect() as connection:
            body = await connection.scalar(sa.select(notes.c.body).where(notes.c.id == note_id))
    finally:
        await engine.dispose()
    assert body == "héllo"


async def test_each_test_gets_an_empty_database(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            tables = await connection.scalar(
                sa.text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            )
            name = await connection.scalar(sa.text("SELECT current_database()"))
    finally:
        await engine.dispose()
    assert tables == 0
    assert name is not None
    assert name.startswith("test_")


async def test_redis_round_trips_values_with_expiry(redis_db_url: str) -> None:
    client = aioredis.Redis.from_url(redis_db_url)
    try:
        assert await client.dbsize() == 0
        await client.set("user:1", b"\x00payload", ex=30)
        assert await client.get("user:1") == b"\x00payload"
        assert 0 < await client.ttl("user:1") <= 30
    finally:
        await client.aclose()


async def test_kafka_round_trips_keyed_messages_with_headers_in_a_consumer_group(
    kafka_bootstrap: str, kafka_topic: Callable[..., Awaitable[str]], unique_name: str
) -> None:
    topic = await kafka_topic(partitions=3)
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all"
    )
    await producer.start()
    try:
        for number in range(6):
            await producer.send_and_wait(
                topic,
                f"event-{number}".encode(),
                key=f"user-{number % 2}".encode(),
                headers=[("event_id", str(number).encode())],
            )
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=unique_name,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    received: list[tuple[bytes, bytes, int]] = []
    try:
        async with asyncio.timeout(30):
            while len(received) < 6:
                batch = await consumer.getmany(timeout_ms=500)
                for messages in batch.values():
                    received.extend((m.key, m.value, m.partition) for m in messages)
        await consumer.commit()
        committed = {tp: await consumer.committed(tp) for tp in consumer.assignment()}
    finally:
        await consumer.stop()

    assert sorted(value for _, value, _ in received) == [f"event-{n}".encode() for n in range(6)]
    # Same key, same partition: the ordering guarantee the services rely on.
    partitions_by_key: dict[bytes, set[int]] = {}
    for key, _, partition in received:
        partitions_by_key.setdefault(key, set()).add(partition)
    assert all(len(partitions) == 1 for partitions in partitions_by_key.values())
    assert sum(offset or 0 for offset in committed.values()) == 6
