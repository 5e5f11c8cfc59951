"""The leak check finds secrets in OTLP exports, says where, and never repeats the value."""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from observability.leak_check import Finding, LeakCheck

TRACE_ID = bytes.fromhex("4bf92f3577b34da6a3ce929d0e0e4736")
# A real token's shape: header {"alg":"EdDSA","typ":"JWT"}, a payload, a signature.
JWT = (
    "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwiZXhwIjoxNzAwMDAwMDAwfQ"
    ".c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1pbi1iYXNlNjR1cmwtZm9ybQ"
)
PASSWORD = "correct horse battery staple"
PEM = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIB0Y...\n-----END PRIVATE KEY-----"
ARGON2 = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"


def text(value: str) -> AnyValue:
    return AnyValue(string_value=value)


def attributes(**values: AnyValue | str) -> list[KeyValue]:
    return [
        KeyValue(key=key.replace("_", "."), value=text(v) if isinstance(v, str) else v)
        for key, v in values.items()
    ]


def resource(service: str = "user", **extra: str) -> Resource:
    return Resource(attributes=attributes(service_name=service, **extra))


def logs(*records: LogRecord, service: str = "user") -> ExportLogsServiceRequest:
    return ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(resource=resource(service), scope_logs=[ScopeLogs(log_records=records)])
        ]
    )


def traces(*spans: Span, service: str = "order") -> ExportTraceServiceRequest:
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(resource=resource(service), scope_spans=[ScopeSpans(spans=spans)])
        ]
    )


def findings_of(*requests: Any, known: dict[str, str] | None = None) -> list[Finding]:
    check = LeakCheck(known)
    for request in requests:
        check.add(request)
    return check.findings()


def test_a_jwt_in_a_log_body_is_found_with_its_service_field_and_trace_but_not_its_value() -> None:
    record = LogRecord(body=text(f"issued {JWT} to the caller"), trace_id=TRACE_ID)

    (finding,) = findings_of(logs(record))

    assert (finding.kind, finding.location.signal, finding.location.service) == (
        "JWT",
        "log record",
        "user",
    )
    assert finding.location.field == "body"
    assert finding.trace_id == TRACE_ID.hex()
    described = finding.describe()
    assert JWT not in described
    assert JWT.split(".")[2] not in described
    assert "eyJh… (" in described
    assert TRACE_ID.hex() in described


def test_an_email_in_a_span_attribute_is_found() -> None:
    span = Span(name="GET /v1/users", trace_id=TRACE_ID, attributes=attributes(url_query="x"))
    span.attributes.extend(attributes(user_email="ada.lovelace@example.com"))

    (finding,) = findings_of(traces(span))

    assert finding.kind == "email address"
    assert (finding.location.signal, finding.location.service) == ("span", "order")
    assert finding.location.field == "attributes['user.email']"
    assert "ada.lovelace@example.com" not in finding.describe()


def test_a_registered_password_is_found_where_no_pattern_would_see_it() -> None:
    event = Span.Event(
        name="exception",
        attributes=attributes(exception_message=f"could not parse {PASSWORD!r} as a number"),
    )
    span = Span(name="create_user", trace_id=TRACE_ID, events=[event])

    assert findings_of(traces(span)) == []
    (finding,) = findings_of(traces(span), known={PASSWORD: "password"})

    assert finding.kind == "password"
    assert finding.location.field == "events['exception'].attributes['exception.message']"
    assert PASSWORD not in finding.describe()


def test_a_registered_value_is_found_percent_encoded_and_json_escaped_too() -> None:
    record = LogRecord(
        body=text("GET /v1/lookup?q=correct%20horse%20battery%20staple"),
        attributes=attributes(payload='{"note": "say \\"quoted secret!\\" twice"}'),
    )

    found = findings_of(
        logs(record), known={PASSWORD: "password", 'say "quoted secret!"': "password"}
    )

    assert sorted(f.location.field for f in found) == ["attributes['payload']", "body"]


def test_bearer_pem_hash_and_encoded_email_are_found_in_status_resource_and_nested_values() -> None:
    span = Span(
        name="call",
        status=Status(message="upstream said 401 to Bearer abc123.def456"),
        attributes=[
            KeyValue(
                key="request",
                value=AnyValue(
                    kvlist_value=KeyValueList(
                        values=attributes(
                            form=AnyValue(array_value=ArrayValue(values=[text(ARGON2)]))
                        )
                    )
                ),
            ),
            *attributes(url_full="http://user/v1/users?email=ada%40example.com"),
        ],
    )
    request = traces(span)
    request.resource_spans[0].resource.attributes.extend(attributes(deploy_key=PEM))

    found = {(f.kind, f.location.signal, f.location.field) for f in findings_of(request)}

    assert found == {
        ("bearer token", "span", "status.message"),
        ("password hash", "span", "attributes['request']['form'][]"),
        ("email address", "span", "attributes['url.full']"),
        ("PEM private key", "resource", "attributes['deploy.key']"),
    }


def test_redacted_and_hashed_values_and_challenges_are_not_leaks() -> None:
    record = LogRecord(
        body=text("login failed for [REDACTED] with Bearer [REDACTED]"),
        attributes=attributes(
            email_hash="9f86d081884c7d659a2feaa0c55ad015",
            challenge='Bearer realm="users", error="invalid_token"',
            detail="a Bearer token is required",
            password="[REDACTED]",
        ),
    )

    assert findings_of(logs(record), known={PASSWORD: "password"}) == []


def test_short_registered_values_are_ignored_they_would_match_by_chance() -> None:
    record = LogRecord(body=text("the answer is nope"))

    assert findings_of(logs(record), known={"nope": "admin token"}) == []


def test_one_string_seen_many_times_is_one_finding_counting_them() -> None:
    record = LogRecord(body=text("hello ada@example.com"), trace_id=TRACE_ID)

    check = LeakCheck()
    for _ in range(3):
        check.add(logs(record))
    (finding,) = check.findings()

    assert finding.occurrences == 3
    assert "3 times" in finding.describe()
    assert (check.log_records, check.resources) == (3, 3)


def test_the_label_attribute_names_the_launch_in_the_description() -> None:
    request = logs(LogRecord(body=text(f"token {JWT}")))
    request.resource_logs[0].resource.attributes.extend(attributes(test_launch="7"))

    check = LeakCheck(label_attribute="test.launch")
    check.add(request)
    (finding,) = check.findings()

    assert finding.location.label == "7"
    assert "(started by test_x)" in finding.describe({"7": "started by test_x"})
