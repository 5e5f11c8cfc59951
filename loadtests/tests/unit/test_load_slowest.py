"""The slowest requests per name: bounded, slowest first, sampled ones kept apart."""

from __future__ import annotations

import pytest

from threadline_loadtests.slowest import SlowestRequests


def test_keeps_only_the_n_slowest_per_name_slowest_first() -> None:
    slowest = SlowestRequests(per_name=3)
    for milliseconds in [5, 50, 1, 40, 30, 2, 45]:
        slowest.record(
            "GET /a", milliseconds, trace_id=f"t{milliseconds}", sampled=True, failed=False
        )
    slowest.record("GET /b", 7, trace_id="b7", sampled=True, failed=True)

    assert [request.trace_id for request in slowest.slowest("GET /a")] == ["t50", "t45", "t40"]
    assert [request.failed for request in slowest.slowest("GET /b")] == [True]
    assert slowest.names() == ["GET /a", "GET /b"]


def test_sampled_requests_have_their_own_top_n() -> None:
    slowest = SlowestRequests(per_name=2)
    slowest.record("rpc", 900, trace_id="unsampled", sampled=False, failed=False)
    slowest.record("rpc", 100, trace_id="sampled-1", sampled=True, failed=False)
    slowest.record("rpc", 200, trace_id="sampled-2", sampled=True, failed=False)

    assert [r.trace_id for r in slowest.slowest("rpc")] == ["unsampled", "sampled-2"]
    assert [r.trace_id for r in slowest.slowest("rpc", sampled_only=True)] == [
        "sampled-2",
        "sampled-1",
    ]


def test_reset_forgets_everything() -> None:
    slowest = SlowestRequests()
    slowest.record("rpc", 1, trace_id="t", sampled=True, failed=False)

    slowest.reset()

    assert slowest.names() == []
    assert slowest.to_dict() == {}


def test_needs_room_for_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least one"):
        SlowestRequests(per_name=0)
