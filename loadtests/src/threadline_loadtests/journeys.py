"""The journeys a run is judged by: named user flows, each a group of requests."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["MIXED", "Journey"]


class Journey(StrEnum):
    # A new customer: register, log in, read the new profile, complete it.
    SIGNUP = "signup"
    # A returning customer looking after their profile: read it (mostly), update it.
    ACCOUNT = "account"
    # A returning customer shopping over gRPC: create (idempotently), list, get, cancel orders.
    ORDERS = "orders"


# Every request of the run together: the traffic mix the benchmark's figure is about.
MIXED = "mixed"
