"""JSON Schema `pattern`s that state, in the OpenAPI document, rules the service checks in code.

Each is built from the constant the check itself reads, so the two cannot drift apart, and
each is written for both regex dialects that read it: ECMA-262 (what JSON Schema specifies)
and Python's `re` (what generators and validators in this repository use). A rule no pattern
can express (NFKC, case folding, a list of common passwords, another field's value) is stated
in the field's description instead.
"""

from __future__ import annotations

import re
from typing import Final

from email_validator import SPECIAL_USE_DOMAIN_NAMES

from user_service.domain.passwords import MIN_DISTINCT_CHARACTERS

# Unicode's White_Space characters: what a full name is stripped of (pydantic's own
# strip_whitespace strips exactly these).
WHITESPACE: Final = (
    "\t\n\v\f\r \x85\xa0\u1680"
    + "".join(chr(code) for code in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)


def _escaped(characters: str) -> str:
    # \uXXXX escapes mean the same in both dialects; every character here is in the BMP.
    return "".join(f"\\u{ord(character):04x}" for character in characters)


def _any_case(word: str) -> str:
    # JSON Schema patterns have no flags: each letter is written in both cases.
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


_NUL: Final = _escaped("\x00")

# Text without the NUL character, which PostgreSQL cannot store (domain/text.py).
NO_NUL: Final = f"^[^{_NUL}]*$"

# Lookarounds come first and constrain, a plain class then spans the whole value: generators
# (hypothesis, schemathesis) fit minLength and maxLength into that class and filter by the
# lookarounds. A positive lookahead is written as a double negative, `(?!(?!X))`, because they
# would generate X's text in front of the value.

# Not whitespace alone, and no NUL: a name is left after stripping.
NOT_BLANK: Final = f"^(?![{_escaped(WHITESPACE)}]*$)[^{_NUL}]*$"

# At least MIN_DISTINCT_CHARACTERS different characters (each captured where it occurs last),
# and no NUL. The service counts them after NFKC and case folding, which no pattern can do.
DISTINCT_CHARACTERS: Final = (
    rf"^(?!(?!(?:[\s\S]*?([\s\S])(?![\s\S]*\1)){{{MIN_DISTINCT_CHARACTERS}}}))"
    f"[^{_NUL}]*$"
)

# The special-use and reserved domains email-validator refuses (`test`, `localhost`, ...): no
# mail can be delivered there.
RESERVED_DOMAINS: Final = tuple(SPECIAL_USE_DOMAIN_NAMES)

# Not on one of them, nor on a subdomain of one.
DELIVERABLE_DOMAIN: Final = (
    r"^(?![\s\S]*@(?:[\s\S]*\.)?(?:"
    + "|".join(_any_case(name) for name in RESERVED_DOMAINS)
    + r")$)[\s\S]*$"
)
