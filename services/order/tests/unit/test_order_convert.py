"""Domain -> order.v1 conversion: timestamps equal protobuf's own conversion, to the nanosecond."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from order_service.api.convert import timestamp


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 21, 12, 0, 0, 123456, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2030, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_timestamps_equal_protobufs_own_conversion(moment: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(moment)
    assert timestamp(moment) == expected
