"""Shared accounts: handed out round-robin, their tokens refreshed once before they expire."""

from __future__ import annotations

from pathlib import Path

import pytest

from threadline_loadtests.accounts import (
    Account,
    AccountPool,
    Identity,
    load_accounts,
    new_identity,
    save_accounts,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def account(number: int, *, expires_at: float) -> Account:
    return Account(str(number), new_identity("run", f"a{number}"), f"token-{number}", expires_at)


def test_hands_accounts_out_in_turn() -> None:
    accounts = [account(n, expires_at=10_000) for n in range(3)]
    pool = AccountPool(accounts, login=lambda identity: ("never", 0.0))

    assert [pool.next().id for _ in range(7)] == ["0", "1", "2", "0", "1", "2", "0"]


def test_logs_in_again_only_when_the_token_is_about_to_expire() -> None:
    clock = Clock()
    logins: list[Identity] = []

    def login(identity: Identity) -> tuple[str, float]:
        logins.append(identity)
        return f"fresh-{len(logins)}", 900.0

    held = account(1, expires_at=clock.now + 900)
    pool = AccountPool([held], login=login, clock=clock)

    assert pool.token_for(held) == "token-1"
    clock.now += 900 - 61
    assert pool.token_for(held) == "token-1"
    clock.now += 2  # within the refresh margin
    assert pool.token_for(held) == "fresh-1"
    assert pool.token_for(held) == "fresh-1"
    assert logins == [held.identity]


def test_identities_are_unique_and_valid_for_the_password_policy() -> None:
    first, second = new_identity("r1", "x"), new_identity("r1", "y")

    assert first.email != second.email
    assert first.password != second.password
    assert len(first.password) >= 12
    assert first.email.split("@")[0] not in first.password


def test_an_empty_pool_is_a_mistake() -> None:
    with pytest.raises(ValueError, match="at least one account"):
        AccountPool([], login=lambda identity: ("", 0.0))


def test_prepared_accounts_survive_the_trip_to_the_locust_process(tmp_path: Path) -> None:
    accounts = [account(n, expires_at=1234.5) for n in range(2)]
    path = tmp_path / "accounts.json"

    save_accounts(accounts, path)

    assert load_accounts(path) == accounts
    assert path.stat().st_mode & 0o077 == 0  # synthetic, but credentials all the same
