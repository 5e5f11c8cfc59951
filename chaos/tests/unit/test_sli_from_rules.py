"""The drills' SLIs are the SLO recording rules' own expressions, over the window asked for."""

from __future__ import annotations

import pytest

from threadline_chaos.sli import UnknownSliError, known_slis, sli_error_ratio_expr


def test_every_slo_of_the_rules_is_known() -> None:
    assert known_slis() == [
        ("order", "availability"),
        ("order", "latency"),
        ("user", "availability"),
        ("user", "latency"),
    ]


def test_a_short_window_swaps_every_range_of_the_rule() -> None:
    expression = sli_error_ratio_expr("user", "latency", "20s")
    assert expression.count("[20s]") == 2
    assert 'le="0.25"' in expression
    assert "[5m]" not in expression


def test_the_rules_own_window_reads_the_recorded_series() -> None:
    assert (
        sli_error_ratio_expr("order", "availability", "5m")
        == 'slo:sli_error:ratio_rate5m{service="order",slo="availability"}'
    )


def test_unknown_slis_and_bad_windows_are_refused() -> None:
    with pytest.raises(UnknownSliError, match="known: order/availability"):
        sli_error_ratio_expr("billing", "availability")
    with pytest.raises(ValueError, match="not a PromQL duration"):
        sli_error_ratio_expr("user", "latency", "5 minutes")
