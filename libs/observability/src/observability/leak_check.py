"""Find secrets and personal data in telemetry as it left a process: OTLP export requests.

The redaction rules (`observability.redaction`) promise that no log line or span carries a
credential or an email address; this module checks the promise from the outside, on what the
exporters really sent. Feed it every export an `OtlpSink` receives, then ask what it found::

    check = LeakCheck(known={"correct horse battery staple": "password"})
    sink = OtlpSink(keep=False, on_export=check.add)
    ...  # run the service with OTEL_EXPORTER_OTLP_ENDPOINT=sink.endpoint, then stop it
    for finding in check.findings():
        print(finding.describe())

Every string is looked at: each log record's body and attributes, each span's name,
attributes, events (an exception's message and stack trace), links and status message, and
each resource attribute, nested values and map keys included. A string is a leak when it holds

* a value the caller registered (``known``: the passwords a test sent, the tokens it was
  issued, the signing keys it read), found exactly, percent-encoded or JSON-escaped: what no
  pattern could recognise; values shorter than `MIN_KNOWN_LENGTH` are ignored, they would
  match by chance;
* something shaped like a credential: a JWT (three base64url segments, the first ``eyJ``),
  ``Bearer <token>``, a PEM private key block, a password hash (argon2, bcrypt, scrypt,
  PBKDF2);
* an email address, also percent-encoded (``ada%40example.com``): redaction replaces them with
  ``[REDACTED]``, so one still readable got past it.

A finding names the signal, the service, the field, the trace id and the kind of secret, and
shows only the first characters and the length of what it found, never the value.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

__all__ = ["MIN_KNOWN_LENGTH", "Finding", "LeakCheck", "Location"]

MIN_KNOWN_LENGTH = 8

# Shapes of secrets, each with the name a finding gives it. These are written independently of
# the redaction patterns (and a little wider: percent-encoded emails, any PEM key type), so a
# gap in those is not repeated here.
_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("JWT", re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")),
    # A token68 credential; not an auth-param (`Bearer realm="users"`), which the lookahead
    # rules out by refusing a credential followed by more name characters, `=` or a quote.
    ("bearer token", re.compile(r"\bBearer\s+([A-Za-z0-9._~+/-]+=*)(?![\w.~+/=\"-])", re.I)),
    ("PEM private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
    (
        "password hash",
        re.compile(r"\$(?:argon2(?:id|i|d)\$|2[abxy]\$\d\d\$|scrypt\$|pbkdf2[\w-]*\$)\S+"),
    ),
    ("email address", re.compile(r"[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")),
)

# "Bearer token" in a sentence is not a credential: a bearer match made only of letters counts
# when it is at least this long.
_BEARER_WORD_LENGTH = 20


@dataclass(frozen=True, slots=True)
class Location:
    """Where a string was: ``signal`` is ``span``, ``log record`` or ``resource``."""

    signal: str
    service: str
    field: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    """One leaked value at one location: how often, first in which trace, what kind."""

    kind: str
    location: Location
    trace_id: str
    occurrences: int
    excerpt: str

    def describe(self, labels: Mapping[str, str] | None = None) -> str:
        """One line; ``labels`` turns the location's label into words (a launch id into the
        test that started the process)."""
        where = self.location
        text = f"{self.kind} in {where.signal} field {where.field} of service {where.service!r}"
        text += f", trace {self.trace_id}" if self.trace_id else ""
        text += f", {self.occurrences} times" if self.occurrences > 1 else ""
        if where.label:
            text += f" ({(labels or {}).get(where.label, where.label)})"
        return f"{text}: {self.excerpt}"


def _excerpt(value: str) -> str:
    """Enough to tell values apart, never the value: a few first characters (at most a
    quarter of it) and its length."""
    return f"{value[: min(4, len(value) // 4)]}… ({len(value)} characters)"


def _variants(value: str) -> set[str]:
    """The value as written, and as a URL or a JSON document would carry it."""
    variants = {value, json.dumps(value)[1:-1]}
    with contextlib.suppress(UnicodeEncodeError):  # a lone surrogate has no URL form
        variants |= {quote(value, safe=""), quote_plus(value, safe="")}
    return variants


def _attribute_value(key_values: Any, key: str) -> str:
    for attribute in key_values:
        if attribute.key == key:
            return str(attribute.value.string_value)
    return ""


def _any_value(value: AnyValue, field: str) -> Iterator[tuple[str, str]]:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        yield field, value.string_value
    elif kind == "bytes_value":
        yield field, value.bytes_value.decode("utf-8", "replace")
    elif kind == "array_value":
        for item in value.array_value.values:
            yield from _any_value(item, f"{field}[]")
    elif kind == "kvlist_value":
        yield from _key_values(value.kvlist_value.values, field)


def _key_values(key_values: Iterable[KeyValue], field: str) -> Iterator[tuple[str, str]]:
    for attribute in key_values:
        name = f"{field}[{attribute.key!r}]"
        yield f"{name} (the key)", attribute.key
        yield from _any_value(attribute.value, name)


class LeakCheck:
    """Collects the strings of OTLP exports, then finds what leaked in them.

    `add` may be called from the sink's thread while `findings` runs elsewhere. Each distinct
    string is kept once per location (with its first trace id and a count), so a long run
    costs memory in proportion to what varies, not to what was sent.
    """

    def __init__(
        self, known: Mapping[str, str] | None = None, *, label_attribute: str | None = None
    ) -> None:
        """``known`` maps each secret value to its kind; ``label_attribute`` names a resource
        attribute whose value each finding repeats (which test launched the process)."""
        self._known = dict(known or {})
        self._label_attribute = label_attribute
        self._texts: dict[tuple[Location, str], list[Any]] = {}
        self._lock = threading.Lock()
        self.spans = 0
        self.log_records = 0
        self.resources = 0

    def add_known(self, value: str, kind: str) -> None:
        with self._lock:
            self._known[value] = kind

    def add(self, request: Any) -> None:
        """One export request: traces or logs (what `OtlpSink(on_export=...)` hands over)."""
        if isinstance(request, ExportTraceServiceRequest):
            self.add_traces(request)
        elif isinstance(request, ExportLogsServiceRequest):
            self.add_logs(request)
        else:
            raise TypeError(f"not an OTLP export request: {type(request).__name__}")

    def add_traces(self, request: ExportTraceServiceRequest) -> None:
        for resource_spans in request.resource_spans:
            service, label = self._resource(resource_spans.resource)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans += 1
                    trace_id = span.trace_id.hex()
                    self._keep("span", service, label, trace_id, self._span_texts(span))

    def add_logs(self, request: ExportLogsServiceRequest) -> None:
        for resource_logs in request.resource_logs:
            service, label = self._resource(resource_logs.resource)
            for scope_logs in resource_logs.scope_logs:
                for record in scope_logs.log_records:
                    self.log_records += 1
                    texts = [
                        *_any_value(record.body, "body"),
                        *_key_values(record.attributes, "attributes"),
                        ("event_name", record.event_name),
                    ]
                    self._keep("log record", service, label, record.trace_id.hex(), texts)

    def findings(self) -> list[Finding]:
        """Every leak found so far, in the order the strings first arrived."""
        with self._lock:
            texts = list(self._texts.items())
            known = dict(self._known)
        by_variant = {
            variant: kind
            for value, kind in known.items()
            if len(value) >= MIN_KNOWN_LENGTH
            for variant in _variants(value)
        }
        exact = (
            re.compile("|".join(map(re.escape, sorted(by_variant, key=len, reverse=True))))
            if by_variant
            else None
        )
        found = []
        for (location, text), (trace_id, occurrences) in texts:
            for kind, value in self._leaks(text, exact, by_variant):
                found.append(Finding(kind, location, trace_id, occurrences, _excerpt(value)))
        return found

    @staticmethod
    def _leaks(
        text: str, exact: re.Pattern[str] | None, by_variant: Mapping[str, str]
    ) -> Iterator[tuple[str, str]]:
        if exact is not None:
            for match in exact.finditer(text):
                yield by_variant[match.group()], match.group()
        for kind, shape in _SHAPES:
            for match in shape.finditer(text):
                value = match.group(match.lastindex or 0)
                if kind == "bearer token" and value.isalpha() and len(value) < _BEARER_WORD_LENGTH:
                    continue
                yield kind, value

    def _resource(self, resource: Resource) -> tuple[str, str]:
        service = _attribute_value(resource.attributes, "service.name")
        label = _attribute_value(resource.attributes, self._label_attribute or "")
        self.resources += 1
        texts = list(_key_values(resource.attributes, "attributes"))
        self._keep("resource", service, label, "", texts)
        return service, label

    @staticmethod
    def _span_texts(span: Any) -> Iterator[tuple[str, str]]:
        yield "name", span.name
        yield from _key_values(span.attributes, "attributes")
        for event in span.events:
            yield "events[].name", event.name
            yield from _key_values(event.attributes, f"events[{event.name!r}].attributes")
        for link in span.links:
            yield from _key_values(link.attributes, "links[].attributes")
        yield "status.message", span.status.message

    def _keep(
        self,
        signal: str,
        service: str,
        label: str,
        trace_id: str,
        texts: Iterator[tuple[str, str]] | list[tuple[str, str]],
    ) -> None:
        with self._lock:
            for field, text in texts:
                if not text:
                    continue
                key = (Location(signal, service, field, label), text)
                seen = self._texts.get(key)
                if seen is None:
                    self._texts[key] = [trace_id, 1]
                else:
                    seen[1] += 1
