"""No password, token or authorization header reaches a log line, on stdout or over OTLP."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

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
        "body": {"user": {"email": "ada@example.com", "password": "hunter2"}},
        "attempts": [{"api_key": "k-123"}, {"refresh_token": "r-456"}],
    }

    _log.info("request received", extra={"request": request, "client_secret": "shh"})

    (line,) = json_logs()
    assert line["request"] == {
        "headers": {"Authorization": REDACTED, "Cookie": REDACTED, "accept": "*/*"},
        "body": {"user": {"email": "ada@example.com", "password": REDACTED}},
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
