"""A shape as stages: until a share of the run time, a share of the peak users."""

from __future__ import annotations

from typing import ClassVar

from locust import LoadTestShape

__all__ = ["StagedShape", "users_at"]

# (until this share of --run-time, this share of --users)
Stages = tuple[tuple[float, float], ...]


def users_at(stages: Stages, *, elapsed: float, run_time: float, peak_users: int) -> int | None:
    """Users wanted `elapsed` seconds into the run; None once the run is over."""
    if elapsed >= run_time:
        return None
    for until, share in stages:
        if elapsed < until * run_time:
            return max(1, round(share * peak_users))
    return None


class StagedShape(LoadTestShape):
    abstract = True
    # --users is the peak, --run-time the whole shape, --spawn-rate how fast users change.
    use_common_options = True
    stages: ClassVar[Stages]

    def tick(self) -> tuple[int, float] | None:
        assert self.runner is not None
        options = self.runner.environment.parsed_options
        assert options is not None
        if not options.run_time or not options.num_users:
            raise ValueError(f"{type(self).__name__} needs --users and --run-time")
        users = users_at(
            self.stages,
            elapsed=self.get_run_time(),  # type: ignore[no-untyped-call]
            run_time=float(options.run_time),
            peak_users=int(options.num_users),
        )
        return None if users is None else (users, float(options.spawn_rate))
