"""A KRaft cluster id drawn the way Kafka's own `kafka-storage random-uuid` draws one."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable

_UUID_BYTES = 16


def new_cluster_id(*, random_bytes: Callable[[int], bytes] = os.urandom) -> str:
    """A random url-safe base64 UUID that does not begin with "-"."""
    while True:
        cluster_id = base64.urlsafe_b64encode(random_bytes(_UUID_BYTES)).rstrip(b"=").decode()
        # Kafka's Uuid.randomUuid() redraws such ids: its tools' argument parser reads a
        # leading "-" as an option, and `kafka-storage format -t -…` fails (1 draw in 64).
        if not cluster_id.startswith("-"):
            return cluster_id
