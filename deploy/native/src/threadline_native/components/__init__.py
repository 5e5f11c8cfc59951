"""The native stack's components, in start order."""

from __future__ import annotations

from threadline_native.component import Component
from threadline_native.components.kafka import Kafka
from threadline_native.components.postgres import Postgres
from threadline_native.components.redis import Redis

ALL: tuple[type[Component], ...] = (Postgres, Redis, Kafka)
