"""Keep secrets out of logs: redact by field name, by value pattern, in messages and tracebacks.

A value is replaced when its *key* looks sensitive (``password``, ``token``, ``authorization``,
``cookie``, ``api_key``, ``secret``...) at any depth of nested dicts and lists, and any string is
scrubbed of what looks like a credential or personal data wherever it appears: ``Bearer ...``
and ``Basic ...`` credentials, JWTs, ``password=...`` style pairs, the user-info part of URLs,
email addresses and password hashes (``$argon2id$...``, bcrypt, scrypt, PBKDF2). Database
errors carry the values of the row that failed, so their text loses those too: SQLAlchemy's
``[parameters: ...]`` tail, PostgreSQL's ``DETAIL:`` line (``Key (email)=(...)``,
``Failing row contains (...)``) and a parameter the driver or the server echoes because it
could not encode or parse it.
"""

from __future__ import annotations

import logging
import re
import traceback
import weakref
from collections.abc import Mapping
from typing import Any

from observability import escaped

__all__ = ["REDACTED", "RedactionFilter", "Redactor"]

REDACTED = "[REDACTED]"

_SENSITIVE_KEY = re.compile(
    r"pass(word|wd|phrase)?$|passw|secret|token|authori[sz]ation|cookie|api[-_]?key|"
    r"private[-_]?key|credential|session[-_]?id|signature|jwt|otp|pin$",
    re.IGNORECASE,
)

_SENSITIVE_TEXT = (
    # Authorization header values.
    (
        re.compile(r"\b(Bearer|Basic|Digest)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE),
        r"\1 " + REDACTED,
    ),
    # JWT-looking strings: three base64url segments, the first one a JSON header.
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
    # key=value / key: value / "key": "value" pairs whose key looks sensitive. A match starts
    # at the sensitive word (what precedes it in the name is left as it is) and the rest of the
    # name is bounded, so a long run of word characters costs linear time, not quadratic.
    (
        re.compile(
            r"""(?P<key>(?:password|passwd|secret|token|api[-_]?key|authorization|cookie)"""
            r"""[\w-]{0,64}["']?\s*[:=]\s*)"""
            r"""(?P<value>(?:(?:Bearer|Basic|Digest)\s+)?(?:"[^"]*"|'[^']*'|[^\s,;&}]+))""",
            re.IGNORECASE,
        ),
        r"\g<key>" + REDACTED,
    ),
    # scheme://user:password@host (a scheme has a few characters; bounded for linear time)
    (
        re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]{0,31}://)[^\s/:@]+:[^\s/@]+@", re.IGNORECASE),
        r"\g<scheme>" + REDACTED + "@",
    ),
    # SQLAlchemy's statement parameters, e.g. "[parameters: (UUID('…'), 'ada@example.com', …)]":
    # the row being written, up to the end of the line (a value may itself hold a bracket).
    (re.compile(r"\[parameters: [^\n]*"), "[parameters: " + REDACTED + "]"),
    # PostgreSQL's DETAIL line repeats the values of the row that failed
    # ("Key (email)=(ada@example.com) already exists.", "Failing row contains (…)").
    (re.compile(r"(?P<label>\bDETAIL:[ \t]*)[^\n]+"), r"\g<label>" + REDACTED),
    # The same key/value pair outside a DETAIL line (a driver's `detail` attribute).
    (re.compile(r"(?P<key>\bKey \([^\n]*?\)=)\([^\n]*\)"), r"\g<key>(" + REDACTED + ")"),
    # A parameter echoed by asyncpg when it cannot encode it ("invalid input for query argument
    # $2: 'ada@example.com' (…)") and by PostgreSQL when it cannot parse it ("invalid input
    # syntax for type uuid: "…"").
    (re.compile(r"(?P<label>\bquery argument \$[^:\n]*: )[^\n]+"), r"\g<label>" + REDACTED),
    (
        re.compile(r'(?P<label>\binvalid input (?:syntax|value) for [^:\n]+: )"[^\n]*"'),
        r'\g<label>"' + REDACTED + '"',
    ),
    # Email addresses: personal data, and the account name of a login. A match starts only
    # where a run of address characters starts, so a long run without "@" is scanned once.
    (re.compile(r"(?<![\w.+%-])[\w.+%-]+@[\w-]+(?:\.[\w-]+)+"), REDACTED),
    # Password hashes in the PHC string format ($argon2id$v=19$m=65536,t=3,p=4$salt$hash) and
    # bcrypt's ($2b$12$…): the scheme, then the format's own alphabet up to a base64 character.
    (
        re.compile(r"\$(?:argon2(?:id|i|d)|scrypt|pbkdf2[\w-]*|2[abxy])\$[\w$=,./+-]*[\w/+]"),
        REDACTED,
    ),
)

# Every pattern above needs one of these words to match, so a string without any of them is
# returned untouched after one scan instead of one substitution per pattern: most log text
# carries no credential, and the substitutions cost ~13 µs per string on the benchmark machine
# for the first four patterns alone (~0.5 µs for the scan). A unit test holds `Redactor.text`
# equal to every substitution on generated text.
# (Matched against the lower-cased text: faster than an IGNORECASE scan.)
_MAYBE_SENSITIVE_TEXT = re.compile(
    r"bearer|basic|digest|eyj|passw|secret|token|api[-_]?key|authori[sz]ation|cookie|://|"
    r"@|\[parameters: |detail:|key \(|query argument \$|invalid input|"
    r"\$argon2|\$scrypt|\$pbkdf2|\$2[abxy]\$"
)

_PLAIN_SCALARS = frozenset({int, float, bool, type(None)})

# Field names recur on every line; their verdicts are remembered up to this many names.
_KEY_CACHE_SIZE = 4096

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


class Redactor:
    """Redacts values under sensitive keys and credential-looking text inside strings."""

    def __init__(self, *, extra_keys: tuple[str, ...] = ()) -> None:
        self._extra_keys = frozenset(key.lower() for key in extra_keys)
        self._key_verdicts: dict[str, bool] = {}

    def is_sensitive_key(self, key: str) -> bool:
        """True for names such as ``password``, ``X-Api-Key`` or ``refresh_token``."""
        verdict = self._key_verdicts.get(key)
        if verdict is None:
            verdict = key.lower() in self._extra_keys or _SENSITIVE_KEY.search(key) is not None
            if len(self._key_verdicts) < _KEY_CACHE_SIZE:
                self._key_verdicts[key] = verdict
        return verdict

    def text(self, value: str) -> str:
        """Scrub credentials out of free text (messages, exception strings)."""
        if _MAYBE_SENSITIVE_TEXT.search(value.lower()) is None:
            return value
        for pattern, replacement in _SENSITIVE_TEXT:
            value = pattern.sub(replacement, value)
        return value

    def value(self, value: Any) -> Any:
        """Return a redacted copy of any JSON-like value; the caller's objects are not mutated."""
        if type(value) in _PLAIN_SCALARS:  # most fields; skips the slower ABC checks below
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {
                key: REDACTED if self.is_sensitive_key(str(key)) else self.value(item)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(item) for item in value]
        return value


class RedactionFilter(logging.Filter):
    """A handler filter that redacts a record's message, extra fields and exception in place.

    Attach the same instance to every handler (stdout and OTLP): a record is redacted once, and
    its exception is turned into redacted ``exception.type``/``exception.message``/
    ``exception.stacktrace`` fields so no handler can format the raw traceback again. The
    request that exception escaped from, if any, is noted first (`observability.escaped`), so
    the handlers still write the line under that request's trace.
    """

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self._redactor = redactor or Redactor()
        # Records already redacted by this filter for another handler; a marker attribute on
        # the record itself would leak into every handler's output as a field.
        self._done: weakref.WeakSet[logging.LogRecord] = weakref.WeakSet()

    def filter(self, record: logging.LogRecord) -> bool:
        if record in self._done:
            return True
        redactor = self._redactor
        record.msg = redactor.text(record.getMessage())
        record.args = None
        fields = vars(record)
        for key in fields.keys() - _RECORD_ATTRIBUTES:
            if key.startswith("exception."):
                continue
            sensitive = redactor.is_sensitive_key(key)
            fields[key] = REDACTED if sensitive else redactor.value(fields[key])
        if record.exc_info and record.exc_info[1] is not None:
            exc_type, exc, tb = record.exc_info
            escaped.note_record(record, exc)
            record.__dict__["exception.type"] = (
                exc_type.__name__ if exc_type else type(exc).__name__
            )
            record.__dict__["exception.message"] = redactor.text(str(exc))
            record.__dict__["exception.stacktrace"] = redactor.text(
                "".join(traceback.format_exception(exc_type, exc, tb))
            )
            record.exc_info = None
            record.exc_text = None
        if record.stack_info:
            record.stack_info = redactor.text(record.stack_info)
        self._done.add(record)
        return True
