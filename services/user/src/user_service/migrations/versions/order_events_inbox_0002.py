"""Inbox of order events applied to the users' order statistics (the orders.v1 consumer).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_events_inbox",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "kind IN ('created', 'cancelled')", name=op.f("ck_order_events_inbox_kind")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_order_events_inbox")),
    )
    op.create_index(
        op.f("ix_order_events_inbox_order_id"), "order_events_inbox", ["order_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_order_events_inbox_order_id"), table_name="order_events_inbox")
    op.drop_table("order_events_inbox")
