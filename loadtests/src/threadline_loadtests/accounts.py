"""Test data: the accounts a run's users act as, registered and logged in before the run.

The driver (`python -m threadline_loadtests`) prepares them before Locust starts and hands
them over in a file, so preparing never eats into the run time, and the benchmark's steps
share one set; a bare `locust -f` run prepares its own on test start.

Returning customers (most of the traffic) share a pool of accounts prepared before the first
user starts, so a run measures profile and order traffic rather than the cost of argon2id and
the login throttle (60 logins a minute per client address by default). Several users may act
as one account, as one customer with several devices would.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from threadline_loadtests.tracing import LoadTracer

__all__ = [
    "Account",
    "AccountPool",
    "Identity",
    "PreparationError",
    "load_accounts",
    "new_identity",
    "prepare_accounts",
    "save_accounts",
    "user_service_login",
]

# Emails of load-test accounts: easy to find and to delete in a shared environment.
EMAIL_DOMAIN = "example.com"
# Preparing meets the login throttle when runs follow each other closely (the benchmark).
THROTTLED = 429
MAX_THROTTLED_ATTEMPTS = 5
# Refresh a token this long before it expires, so no request is sent with a dying one.
TOKEN_REFRESH_MARGIN_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Identity:
    email: str
    full_name: str
    password: str

    def registration(self) -> dict[str, str]:
        return {"email": self.email, "full_name": self.full_name, "password": self.password}

    def credentials(self) -> dict[str, str]:
        return {"email": self.email, "password": self.password}


def new_identity(run_id: str, label: str) -> Identity:
    """A fresh, valid identity: unique email, a random password the policy accepts."""
    return Identity(
        email=f"load-{run_id}-{label}@{EMAIL_DOMAIN}",
        full_name=f"Load Test {label}",
        password=secrets.token_urlsafe(18),
    )


@dataclass(slots=True)
class Account:
    id: str
    identity: Identity
    token: str
    token_expires_at: float

    def needs_refresh(self, now: float) -> bool:
        return now >= self.token_expires_at - TOKEN_REFRESH_MARGIN_SECONDS


Login = Callable[[Identity], tuple[str, float]]


class AccountPool:
    """Hands out prepared accounts round-robin and keeps their tokens fresh; greenlet-safe."""

    def __init__(
        self, accounts: list[Account], *, login: Login, clock: Callable[[], float] = time.time
    ) -> None:
        if not accounts:
            raise ValueError("an account pool needs at least one account")
        self.accounts = accounts
        self._login = login
        self._clock = clock
        self._cycle: Iterator[Account] = itertools.cycle(accounts)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.accounts)

    def next(self) -> Account:
        with self._lock:
            return next(self._cycle)

    def token_for(self, account: Account) -> str:
        """The account's access token, logging in again first when it is about to expire."""
        if account.needs_refresh(self._clock()):
            with self._lock:
                # Another user of the same account may have refreshed it while we waited.
                if account.needs_refresh(self._clock()):
                    token, expires_in = self._login(account.identity)
                    account.token = token
                    account.token_expires_at = self._clock() + expires_in
        return account.token


def user_service_login(
    base_url: str, tracer: LoadTracer, *, timeout_seconds: float = 30.0
) -> Login:
    """A `Login` against the user service (`POST /v1/auth/token`), traced, not in the stats."""

    def log_in(identity: Identity) -> tuple[str, float]:
        with httpx.Client(base_url=base_url, timeout=timeout_seconds) as http:
            token = _post(http, tracer, "/v1/auth/token", identity.credentials(), expect=200)
        return str(token["access_token"]), float(str(token["expires_in"]))

    return log_in


def prepare_accounts(
    *,
    base_url: str,
    run_id: str,
    count: int,
    tracer: LoadTracer,
    clock: Callable[[], float] = time.time,
    timeout_seconds: float = 30.0,
) -> list[Account]:
    """Register and log in `count` accounts (traced and marked synthetic, not in the stats)."""
    accounts = []
    with httpx.Client(base_url=base_url, timeout=timeout_seconds) as http:
        for number in range(count):
            identity = new_identity(run_id, f"pool{number:04d}")
            created = _post(http, tracer, "/v1/users", identity.registration(), expect=201)
            token = _post(http, tracer, "/v1/auth/token", identity.credentials(), expect=200)
            accounts.append(
                Account(
                    id=str(created["id"]),
                    identity=identity,
                    token=str(token["access_token"]),
                    token_expires_at=clock() + float(str(token["expires_in"])),
                )
            )
    return accounts


def save_accounts(accounts: list[Account], path: Path) -> None:
    """Write prepared accounts for a Locust process to load (synthetic credentials only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(account) for account in accounts], indent=1))
    path.chmod(0o600)


def load_accounts(path: Path) -> list[Account]:
    return [
        Account(
            id=str(item["id"]),
            identity=Identity(**item["identity"]),
            token=str(item["token"]),
            token_expires_at=float(item["token_expires_at"]),
        )
        for item in json.loads(path.read_text())
    ]


def _post(
    http: httpx.Client,
    tracer: LoadTracer,
    path: str,
    body: dict[str, str],
    *,
    expect: int,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, object]:
    attempt = 1
    while True:
        with tracer.client_call(f"prepare POST {path}") as call:
            response = http.post(path, json=body, headers=dict(call.headers))
            if response.status_code == expect:
                data: dict[str, object] = response.json()
                return data
            call.failed(f"HTTP {response.status_code}")
            if response.status_code != THROTTLED or attempt == MAX_THROTTLED_ATTEMPTS:
                raise PreparationError(
                    f"preparing test data: POST {path} answered {response.status_code} "
                    f"(expected {expect}): {response.text[:300]} [trace {call.trace_id}]"
                )
        # Runs back to back (the benchmark) can meet the login throttle: wait as it says.
        sleep(float(response.headers.get("retry-after", "1")))
        attempt += 1


class PreparationError(RuntimeError):
    """The test data could not be prepared; the run must not start."""
