"""`UserEvents` as Prometheus counters (names without emails, ids or other unbounded labels)."""

from __future__ import annotations

from typing import Final

from observability.metrics import Metrics
from user_service.domain.users import User

LOGIN_OUTCOMES: Final = ("success", "invalid_credentials", "rate_limited")


class MetricUserEvents:
    def __init__(self, metrics: Metrics) -> None:
        self._registered = metrics.counter("users_registered", "Users who registered.")
        logins = metrics.counter(
            "user_logins", "Token requests, by outcome.", labelnames=("outcome",)
        )
        # Every outcome is exported from the start, at zero, so rate() sees the first one.
        self._logins = {outcome: logins.labels(outcome) for outcome in LOGIN_OUTCOMES}

    def user_registered(self, user: User) -> None:
        self._registered.inc()

    def login(self, outcome: str) -> None:
        self._logins[outcome].inc()
