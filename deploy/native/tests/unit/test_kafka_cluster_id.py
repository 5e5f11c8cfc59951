"""The KRaft cluster id never begins with "-", which kafka-storage would read as an option."""

from __future__ import annotations

import base64
import itertools

from threadline_native.components.kafka_cluster_id import new_cluster_id

# 0xF8 puts 0b111110 (62, url-safe base64 "-") in the first six bits.
_LEADING_DASH = bytes([0xF8]) + bytes(15)
_PLAIN = bytes(range(16))


def test_a_draw_that_begins_with_a_dash_is_drawn_again() -> None:
    draws = iter([_LEADING_DASH, _LEADING_DASH, _PLAIN])

    cluster_id = new_cluster_id(random_bytes=lambda size: next(draws))

    assert base64.urlsafe_b64encode(_LEADING_DASH).decode().startswith("-")
    assert cluster_id == base64.urlsafe_b64encode(_PLAIN).rstrip(b"=").decode()


def test_an_id_is_22_url_safe_characters_and_ids_differ() -> None:
    ids = [new_cluster_id() for _ in itertools.repeat(None, 2000)]

    assert all(len(cluster_id) == 22 and not cluster_id.startswith("-") for cluster_id in ids)
    assert len(set(ids)) == len(ids)
