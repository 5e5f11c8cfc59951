"""One text rule for everything a caller sends: nothing PostgreSQL or a UTF-8 encoder refuses."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from pydantic import BaseModel, EmailStr, SecretStr, ValidationError

from user_service.api.json_route import decode_json_body
from user_service.api.schemas import TokenRequest, UserAccountUpdate, UserCreate, UserUpdate
from user_service.domain.text import text_problem

REQUEST_SCHEMAS = (UserCreate, UserUpdate, TokenRequest, UserAccountUpdate)
LONE_SURROGATE = chr(0xD800)  # what JSON's "\ud800" escape decodes to
UNDECODABLE_BYTE = chr(0xDCFF)  # what byte 0xFF becomes, decoded with surrogateescape
NOT_UTF8 = "must be valid UTF-8 (no unpaired surrogate, no undecodable byte)"
_TEXT_TYPES = (str, SecretStr, EmailStr)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("Ada Lovelace", None),
        ("Ada Lovelace 😀 é ß", None),
        ("Ada\x00", "must not contain the NUL character"),
        ("Ada" + LONE_SURROGATE, NOT_UTF8),
        ("Ada" + UNDECODABLE_BYTE, NOT_UTF8),
    ],
)
def test_text_is_refused_for_nul_and_unpaired_surrogates(value: str, problem: str | None) -> None:
    assert text_problem(value) == problem


def _unannotated(kind: Any) -> Any:
    return typing.get_args(kind)[0] if typing.get_origin(kind) is typing.Annotated else kind


def _text_fields() -> list[tuple[type[BaseModel], str]]:
    """Every field of a request schema that holds free text (a Literal holds one of a few)."""
    fields: list[tuple[type[BaseModel], str]] = []
    for schema in REQUEST_SCHEMAS:
        for name, field in schema.model_fields.items():
            types = typing.get_args(field.annotation) or (field.annotation,)  # X | None
            if any(_unannotated(kind) in _TEXT_TYPES for kind in types):
                fields.append((schema, name))
    return fields


def test_the_schemas_text_fields_are_the_ones_expected() -> None:
    # Found from the annotations, so a new text field is covered by the test below as it is.
    assert {(schema.__name__, name) for schema, name in _text_fields()} == {
        ("UserCreate", "email"),
        ("UserCreate", "full_name"),
        ("UserCreate", "password"),
        ("UserUpdate", "email"),
        ("UserUpdate", "full_name"),
        ("UserUpdate", "password"),
        ("TokenRequest", "email"),
        ("TokenRequest", "password"),
    }


@pytest.mark.parametrize(("schema", "field"), _text_fields())
@pytest.mark.parametrize("bad", ["a\x00b", f"a{LONE_SURROGATE}b", f"a{UNDECODABLE_BYTE}b"])
def test_every_text_field_of_every_request_schema_applies_the_rule(
    schema: type[BaseModel], field: str, bad: str
) -> None:
    valid: dict[str, Any] = {
        "email": "ada@example.com",
        "full_name": "Ada",
        "password": "correct horse battery staple",
    }
    payload = {name: valid[name] for name in schema.model_fields}
    payload[field] = bad
    with pytest.raises(ValidationError) as refused:
        schema.model_validate(payload)
    ((location, kind),) = {(error["loc"], error["type"]) for error in refused.value.errors()}
    assert (location, kind) == ((field,), "text_unstorable")


def test_a_body_byte_that_is_not_utf8_becomes_a_surrogate_in_its_own_string() -> None:
    document = decode_json_body(b'{"full_name": "Ad\xff", "email": "ada@example.com"}')
    assert document == {"full_name": "Ad\udcff", "email": "ada@example.com"}
    assert text_problem(document["full_name"]) is not None
    # What json.loads reads from bytes, it still reads: UTF-8 with a BOM, UTF-16.
    assert decode_json_body(b'\xef\xbb\xbf{"a": "\xc3\xa9"}') == {"a": "é"}
    assert decode_json_body('{"a": "é"}'.encode("utf-16")) == {"a": "é"}
