"""The order service's tables, described with SQLAlchemy Core; the domain never sees them.

Migrations (order_service/migrations) create them; queries are built from these descriptions.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Identity,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "pk": "pk_%(table_name)s",
    }
)

products = Table(
    "products",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("currency_code", String(3), nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("active", Boolean, nullable=False, server_default="true"),
    CheckConstraint("unit_price_minor > 0", name="price_positive"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, nullable=False),
    Column("status", String(16), nullable=False),
    # Lines never change after creation: one JSON document saves a table and a join.
    Column("lines", JSONB, nullable=False),
    Column("currency_code", String(3), nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("idempotency_key", String(64), nullable=False),
    Column("request_fingerprint", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # Decides concurrent duplicates: the second insert with the same key gives way.
    UniqueConstraint("user_id", "idempotency_key"),
    CheckConstraint("status IN ('created', 'cancelled')", name="status"),
)
Index("ix_orders_user_newest", orders.c.user_id, orders.c.created_at.desc(), orders.c.id.desc())

outbox = Table(
    "outbox",
    metadata,
    # The relay publishes in this order; an identity never goes backwards within a table.
    Column("sequence", BigInteger, Identity(always=True), primary_key=True),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("topic", String(249), nullable=False),
    Column("key", LargeBinary, nullable=False),
    Column("value", LargeBinary, nullable=False),
    # Record headers, including the trace context of the transaction that wrote the row.
    Column("headers", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

__all__ = ["metadata", "orders", "outbox", "products"]
