"""The tables, apart from the domain's dataclasses (wire schemas and the domain are not tables)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, MetaData, String, Table, Uuid

metadata = MetaData()

items = Table(
    "items",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
