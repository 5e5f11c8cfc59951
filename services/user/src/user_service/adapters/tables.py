"""The users table, described with SQLAlchemy Core; the domain never sees it.

Migrations (user_service/migrations) create it; this description is what queries are built
from and what `alembic revision --autogenerate` compares against.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    func,
    text,
)

EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a forward path
FULL_NAME_MAX_LENGTH = 100

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("email", String(EMAIL_MAX_LENGTH), nullable=False),
    Column("full_name", String(FULL_NAME_MAX_LENGTH), nullable=False),
    Column("role", String(16), nullable=False, server_default="user"),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("password_hash", Text, nullable=False),
    # Kept by the orders.v1 consumer (issue 5); zero until the first order event.
    Column("order_count", BigInteger, nullable=False, server_default="0"),
    Column("total_spent_cents", BigInteger, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("role IN ('user', 'admin')", name="role"),
    CheckConstraint("order_count >= 0 AND total_spent_cents >= 0", name="stats_not_negative"),
)

# One account per address whatever its case: the unique index is on lower(email), and lookups
# compare lower() with lower() so PostgreSQL does the folding on both sides.
EMAIL_UNIQUE_INDEX = "uq_users_email_lower"
Index(EMAIL_UNIQUE_INDEX, func.lower(users.c.email), unique=True)

# The orders.v1 consumer's inbox (issue 5): one row per order event seen, so a re-delivered
# event is recognised and changes nothing (service_layer/order_stats.py).
order_events_inbox = Table(
    "order_events_inbox",
    metadata,
    Column("event_id", Uuid, primary_key=True),
    Column("order_id", Uuid, nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    # False while a cancellation waits for its order's creation (they arrived out of order).
    Column("applied", Boolean, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("kind IN ('created', 'cancelled')", name="kind"),
)
