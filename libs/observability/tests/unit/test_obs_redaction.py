"""No password, token, authorization header, email or database row reaches a log line, on
stdout or over OTLP."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from sqlalchemy import exc as sa_exc

from observability import ObservabilitySettings
from observability.logging import configure_logging
from observability.redaction import _SENSITIVE_TEXT, REDACTED, Redactor

_log = logging.getLogger("test.redaction")
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlLWJ5dGVz"


def _everything(line: dict[str, Any]) -> str:
    return repr(line)


def test_nested_fields_are_redacted_by_key(json_logs: Callable[[], list[dict[str, Any]]]) -> None:
    request = {
        "headers": {"Authorization": "Bearer abc.def", "Cookie": "sid=1", "accept": "*/*"},
        "body": {"user": {"name": "Ada", "password": "hunter2"}},
        "attempts": [{"api_key": "k-123"}, {"refresh_token": "r-456"}],
    }

    _log.info("request received", extra={"request": request, "client_secret": "shh"})

    (line,) = json_logs()
    assert line["request"] == {
        "headers": {"Authorization": REDACTED, "Cookie": REDACTED, "accept": "*/*"},
        "body": {"user": {"name": "Ada", "password": REDACTED}},
        "attempts": [{"api_key": REDACTED}, {"refresh_token": REDACTED}],
    }
    assert line["client_secret"] == REDACTED
    # The caller's objects are left alone.
    assert request["body"]["user"]["password"] == "hunter2"  # type: ignore[index]


def test_exception_messages_and_tracebacks_are_redacted(
    json_logs: Callable[[], list[dict[str, Any]]],
) -> None:
    try:
        raise PermissionError(f"rejected Authorization: Bearer {JWT} for password=hunter2")
    except PermissionError:
        _log.exception("login failed")

    (line,) = json_logs()
    text = _everything(line)
    assert line["exception.type"] == "PermissionError"
    assert "hunter2" not in text
    assert JWT not in text
    assert line["exception.message"] == "rejected Authorization: [REDACTED] for password=[REDACTED]"
    assert "PermissionError" in line["exception.stacktrace"]


def test_messages_and_arguments_are_redacted(json_logs: Callable[[], list[dict[str, Any]]]) -> None:
    _log.warning("calling %s with token %s", "https://bob:pa55@api.example.com/x", JWT)
    _log.warning('payload {"password": "hunter2", "name": "ada"} api_key=k-9')

    first, second = json_logs()
    assert first["message"] == "calling https://[REDACTED]@api.example.com/x with token [REDACTED]"
    assert second["message"] == 'payload {"password": [REDACTED], "name": "ada"} api_key=[REDACTED]'


ARGON2_HASH = (
    "$argon2id$v=19$m=8192,t=1,p=1$QomRhwqUyECtEAXSyDkdtw"
    "$IlZNAa8sxl211Ko3kkX3eaait567yKd38IVsLSjaRPQ"
)


def _database_error() -> sa_exc.DBAPIError:
    """What SQLAlchemy raises when PostgreSQL refuses a row: statement, parameters, DETAIL."""
    driver_error = Exception(
        'duplicate key value violates unique constraint "uq_users_email"\n'
        "DETAIL:  Key (lower(email::text))=(ada@example.com) already exists."
    )
    return sa_exc.DBAPIError(
        "INSERT INTO users (id, email, password_hash) VALUES ($1::UUID, $2::VARCHAR, $3::VARCHAR)",
        ("0190a8e2-0000-7000-8000-000000000001", "ada@example.com", ARGON2_HASH),
        driver_error,
    )


def test_database_errors_lose_the_row_but_keep_the_statement(
    json_logs: Callable[[], list[dict[str, Any]]],
) -> None:
    error = _database_error()
    assert "[parameters: (" in str(error)  # what an engine without hide_parameters writes
    try:
        raise error
    except sa_exc.DBAPIError:
        _log.exception("unhandled error")

    (line,) = json_logs()
    text = _everything(line)
    for secret in ("ada@example.com", "ada%40example.com", "$argon2id$", "QomRhwqUyECtEAXSyDkdtw"):
        assert secret not in text
    assert "INSERT INTO users (id, email, password_hash)" in line["exception.message"]
    assert "[parameters: [REDACTED]]" in line["exception.message"]
    assert "DETAIL:  [REDACTED]" in line["exception.stacktrace"]


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("welcome ada.lovelace+news@example.co.uk!", "welcome [REDACTED]!"),
        ("Key (email)=(bob@example.org) is not present", "Key (email)=([REDACTED]) is not present"),
        (
            "invalid input for query argument $2: 'Ada Lovelace' (expected str, got int)",
            "invalid input for query argument $2: [REDACTED]",
        ),
        (
            'invalid input syntax for type uuid: "not-a-uuid-but-a-name"',
            'invalid input syntax for type uuid: "[REDACTED]"',
        ),
        (f"stored {ARGON2_HASH}, rehashing", "stored [REDACTED], rehashing"),
        (
            "bcrypt $2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW.",
            "bcrypt [REDACTED].",
        ),
        (
            "GET /v1/users/{user_id} by admin@localhost",
            "GET /v1/users/{user_id} by admin@localhost",
        ),
    ],
)
def test_emails_hashes_and_key_values_are_scrubbed_from_any_text(text: str, redacted: str) -> None:
    assert Redactor().text(text) == redacted


def test_a_long_line_is_scanned_in_linear_time() -> None:
    # Every pattern runs once any trigger word ("@") is present; none may backtrack
    # quadratically over a long run of word characters (each would take seconds here).
    line = "token" * 20_000 + " " + "a1" * 50_000 + " @ " + "x" * 100_000
    started = time.perf_counter()
    Redactor().text(line)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("key", "sensitive"),
    [
        ("password", True),
        ("X-Api-Key", True),
        ("refresh_token", True),
        ("set-cookie", True),
        ("PRIVATE_KEY", True),
        ("email", False),
        ("user_id", False),
        ("passenger_count", False),
    ],
)
def test_sensitive_key_detection(key: str, *, sensitive: bool) -> None:
    assert Redactor().is_sensitive_key(key) is sensitive


def test_otlp_log_records_are_redacted_too(capsys: pytest.CaptureFixture[str]) -> None:
    exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    settings = ObservabilitySettings(service_name="test", logs_exporter="none")
    handlers = configure_logging(settings, logger_provider=provider)
    try:
        try:
            raise ValueError("token=abc123")
        except ValueError:
            _log.exception("failed for %s", "Bearer xyz", extra={"password": "hunter2"})
    finally:
        root = logging.getLogger()
        for handler in handlers:
            root.removeHandler(handler)
        provider.shutdown()

    (record,) = [data.log_record for data in exporter.get_finished_logs()]
    exported = repr(record.body) + repr(dict(record.attributes or {}))
    printed = capsys.readouterr().out
    for secret in ("abc123", "xyz", "hunter2"):
        assert secret not in exported
        assert secret not in printed
    assert record.attributes is not None
    assert record.attributes["exception.type"] == "ValueError"
    assert '"message":"failed for Bearer [REDACTED]"' in printed


def _substitute_every_pattern(text: str) -> str:
    for pattern, replacement in _SENSITIVE_TEXT:
        text = pattern.sub(replacement, text)
    return text


@given(
    st.lists(
        st.sampled_from(
            [
                "Bearer abc.def",
                "basic dXNlcjpwdw==",
                "DIGEST x",
                JWT,
                "eyJx.y.z",
                "password=hunter2",
                "PASSWD: x",
                '"api-key": "k"',
                "Api_Key=1",
                "authorisation=2",
                "Set-Cookie: sid=1",
                "client_secret=s",
                "https://bob:pa55@host/x",
                "ada@example.com",
                "@",
                "[parameters: ('ada@example.com', 'x')]",
                "DETAIL:  Key (email)=(ada@example.com) already exists.",
                "Key (a, b)=(1, 2)",
                "query argument $1: 'x' (y)",
                'invalid input value for enum role: "x"',
                ARGON2_HASH,
                "$2b$12$abc/def.ghi",
                "$scrypt$ln=16,r=8,p=1$c2FsdA$aGFzaA",
                "token",
                "request handled",
                "GET /users/{user_id}",
                " ",
                "=",
                ":",
            ]
        )
        | st.text(max_size=12),
        max_size=6,
    ).map("".join)
)
def test_text_without_a_trigger_word_skips_the_patterns_with_the_same_result(text: str) -> None:
    assert Redactor().text(text) == _substitute_every_pattern(text)
