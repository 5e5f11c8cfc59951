"""The matrix's table itself, without the services: nothing an entry must answer is left out."""

from __future__ import annotations

import pytest

from .matrix import HTTP_MATRIX, RPC_MATRIX, TOKEN_ATTACKS, Attack, HttpRoute, Rpc

pytestmark = pytest.mark.security


def test_every_entry_answers_every_token_attack_and_a_deactivated_caller() -> None:
    required = {*TOKEN_ATTACKS, Attack.DEACTIVATED_USER}
    entries: dict[str, HttpRoute | Rpc] = {**HTTP_MATRIX, **RPC_MATRIX}
    gaps = {
        name: sorted(required - entry.expect.keys())
        for name, entry in entries.items()
        if required - entry.expect.keys()
    }
    assert not gaps, f"entries in tests/security/matrix.py without these attacks: {gaps}"


def test_owned_resources_are_tried_with_another_users_token() -> None:
    """A route naming a user id that is not admin-only must say what another user gets."""
    owned = [
        route
        for route, entry in HTTP_MATRIX.items()
        if "{user_id}" in route and Attack.USER_ON_ADMIN_ROUTE not in entry.expect
    ]
    assert owned, "no owned user routes found: the table's shape changed"
    missing = [
        route for route in owned if Attack.OTHER_USERS_RESOURCE not in HTTP_MATRIX[route].expect
    ]
    assert not missing, f"owned routes without an other_users_resource expectation: {missing}"
