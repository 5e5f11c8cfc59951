"""Time-ordered user ids (UUIDv7), so keyset pagination by id lists users in creation order."""

from __future__ import annotations

import os
import time
import uuid


def new_user_id() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits."""
    # Python 3.11 has no uuid7(); the layout is short enough to write out.
    millis = time.time_ns() // 1_000_000
    random_bits = int.from_bytes(os.urandom(10), "big")
    value = (millis & (2**48 - 1)) << 80
    value |= 0x7 << 76  # version
    value |= (random_bits >> 68 & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # RFC 9562 variant
    value |= random_bits & (2**62 - 1)  # rand_b, 62 bits
    return uuid.UUID(int=value)
