"""The OpenAPI document's patterns say what the checks in code decide, value for value."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from user_service.api.patterns import (
    DELIVERABLE_DOMAIN,
    DISTINCT_CHARACTERS,
    NOT_BLANK,
    RESERVED_DOMAINS,
    WHITESPACE,
)
from user_service.api.schemas import Email, FullName
from user_service.domain.passwords import MIN_DISTINCT_CHARACTERS

FULL_NAME: TypeAdapter[str] = TypeAdapter(FullName)
EMAIL: TypeAdapter[str] = TypeAdapter(Email)


def accepted(adapter: TypeAdapter[str], value: str) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


@given(st.text(alphabet=st.sampled_from([*WHITESPACE, "a", "é", "\x00", "\x1f"]), max_size=8))
def test_a_full_name_is_refused_exactly_when_its_pattern_says_so(name: str) -> None:
    assert accepted(FULL_NAME, name) == (re.search(NOT_BLANK, name) is not None)


def test_a_full_name_is_bounded_as_sent_and_stored_stripped() -> None:
    assert FULL_NAME.validate_python("  Ada  ") == "Ada"
    assert not accepted(FULL_NAME, " " + "a" * 100)


@pytest.mark.parametrize("name", RESERVED_DOMAINS)
def test_an_address_on_a_reserved_domain_is_refused_by_the_service_and_the_pattern(
    name: str,
) -> None:
    for address in (f"ada@{name}", f"ada@mail.{name}", f"ada@mail.{name.upper()}"):
        assert re.search(DELIVERABLE_DOMAIN, address) is None
        assert not accepted(EMAIL, address)
    for address in (f"ada@{name}.com", f"{name}@example.com", f"ada@my{name}.org"):
        assert re.search(DELIVERABLE_DOMAIN, address) is not None
        assert accepted(EMAIL, address)


@given(st.text(alphabet=st.characters(exclude_characters="\x00"), max_size=20))
def test_the_password_pattern_counts_different_characters_as_typed(password: str) -> None:
    assert (re.search(DISTINCT_CHARACTERS, password) is not None) == (
        len(set(password)) >= MIN_DISTINCT_CHARACTERS
    )
