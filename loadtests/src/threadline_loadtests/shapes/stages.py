"""The Locust side of a staged shape (see threadline_loadtests.shapes.profile)."""

from __future__ import annotations

from typing import ClassVar

from locust import LoadTestShape

from threadline_loadtests.shapes.profile import Stages, users_at

__all__ = ["StagedShape"]


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
