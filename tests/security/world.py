"""Who and what the suite works with: the running services and the people who call them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from order_service.testing import ServiceProcess
from threadline_testing.known_secrets import register_secret

from .canary import Canary
from .forgery import Forger

PASSWORD = register_secret("correct horse battery staple", "password")


@dataclass
class SecurityStack:
    users: ServiceProcess
    orders: ServiceProcess
    users_url: str
    grpc_target: str
    order_metrics_url: str
    database_urls: dict[str, str]
    redis_url: str
    keys_dir: Path
    canary: Canary


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    email: str
    token: str
    # One order of theirs, placed while the account was active.
    order_id: str = ""

    @property
    def bearer(self) -> str:
        return f"Bearer {self.token}"


@dataclass(frozen=True)
class Cast:
    """Who takes part: an admin, a victim, an attacker, and a user an admin deactivated."""

    admin: Account
    victim: Account
    attacker: Account
    deactivated: Account
    forger: Forger
