"""The domain's rules, with no fixtures: ids, access, the password policy."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from user_service.domain.access import Principal
from user_service.domain.errors import PasswordPolicyError
from user_service.domain.ids import new_user_id
from user_service.domain.passwords import check_password_policy
from user_service.domain.users import Role, User

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_user_ids_are_uuid7_and_sort_in_creation_order() -> None:
    ids = [new_user_id() for _ in range(200)]
    assert all(user_id.version == 7 for user_id in ids)
    assert all(user_id.variant == uuid.RFC_4122 for user_id in ids)
    # Same millisecond -> random order within it, so compare the timestamp prefix only.
    prefixes = [user_id.int >> 80 for user_id in ids]
    assert prefixes == sorted(prefixes)
    assert len(set(ids)) == len(ids)


def test_a_user_may_access_only_themself_and_an_admin_everyone() -> None:
    me, other = uuid.uuid4(), uuid.uuid4()
    assert Principal(user_id=me, role=Role.USER).may_access(me)
    assert not Principal(user_id=me, role=Role.USER).may_access(other)
    assert Principal(user_id=me, role=Role.ADMIN).may_access(other)


def test_changing_a_user_keeps_what_is_not_named_and_stamps_the_time() -> None:
    user = User.register(email="ada@example.com", full_name="Ada", now=NOW)
    later = datetime(2026, 2, 1, tzinfo=UTC)
    changed = user.changed(now=later, full_name="Ada L.")
    assert (changed.full_name, changed.email, changed.updated_at) == ("Ada L.", user.email, later)
    assert changed.created_at == NOW
    assert changed.role is Role.USER
    assert changed.is_active


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short-one", "at least 12"),
        ("x" * 129, "at most 128"),
        ("abababababab", "different characters"),
        ("Password1234", "too common"),
        ("my-adalovelace-pw", "email"),
    ],
)
def test_password_policy_names_the_broken_rule(password: str, rule: str) -> None:
    with pytest.raises(PasswordPolicyError, match=rule):
        check_password_policy(password, email="adalovelace@example.com")


@pytest.mark.parametrize(
    "password",
    ["correct horse battery staple", "Ünïcödé pässwörd", "a" * 3 + "bcdefghijklm" + "z" * 100],
)
def test_password_policy_accepts_long_passphrases_without_composition_rules(password: str) -> None:
    check_password_policy(password, email="ada@example.com")


def fullwidth(text: str) -> str:
    """The same text in fullwidth forms (U+FF01..), as some keyboards type it."""
    return "".join(chr(ord(char) + 0xFEE0) for char in text)


def test_password_rules_look_at_the_normalised_password() -> None:
    # Fullwidth letters become ASCII ones under NFKC: the common password is recognised.
    with pytest.raises(PasswordPolicyError, match="too common"):
        check_password_policy(fullwidth("password1234"), email="ada@example.com")
    check_password_policy(fullwidth("zyxwvutsrqpo"), email="ada@example.com")


def test_password_length_is_counted_as_typed_as_the_api_schema_counts_it() -> None:
    # NFKC turns each "¼" into three characters (1, FRACTION SLASH, 4): 128 as typed, 374 after.
    check_password_policy("abcde" + "¼" * 123, email="ada@example.com")
    with pytest.raises(PasswordPolicyError, match="at most 128"):
        check_password_policy("abcde" + "¼" * 124, email="ada@example.com")
