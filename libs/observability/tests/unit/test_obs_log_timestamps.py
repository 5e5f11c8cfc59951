"""Log line timestamps: the one-second cache never changes what a timestamp reads."""

from __future__ import annotations

import datetime

from hypothesis import given
from hypothesis import strategies as st

from observability.logging import iso_timestamp


def _reference(created: float) -> str:
    moment = datetime.datetime.fromtimestamp(int(created), tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{int(created % 1 * 1000):03d}Z"


@given(st.lists(st.floats(min_value=0, max_value=4_102_444_800), min_size=1, max_size=20))
def test_timestamps_read_as_utc_with_milliseconds_in_any_order(moments: list[float]) -> None:
    # Consecutive calls in the same second reuse the cached prefix; others replace it.
    for created in [*moments, moments[0] + 0.5, moments[0]]:
        assert iso_timestamp(created) == _reference(created)
