"""Users over time as stages: until a share of the run time, a share of the peak users."""

from __future__ import annotations

__all__ = ["Stages", "users_at"]

# ((until this share of --run-time, this share of --users), ...)
Stages = tuple[tuple[float, float], ...]


def users_at(stages: Stages, *, elapsed: float, run_time: float, peak_users: int) -> int | None:
    """Users wanted `elapsed` seconds into the run; None once the run is over."""
    if elapsed >= run_time:
        return None
    for until, share in stages:
        if elapsed < until * run_time:
            return max(1, round(share * peak_users))
    return None
