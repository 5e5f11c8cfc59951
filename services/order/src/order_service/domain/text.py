"""Text the service can keep: what PostgreSQL stores and every UTF-8 encoder writes.

PostgreSQL's text types refuse the NUL character, and no UTF-8 encoder (PostgreSQL's, a JSON
encoder's, protobuf's) can write an unpaired surrogate, which is also what bytes that are not
UTF-8 become once decoded leniently. A value holding either is refused where it enters, with
the name of its field, instead of failing deep inside a write or a log line.
"""

from __future__ import annotations

import re
from typing import Final

UNPAIRED_SURROGATE: Final = re.compile(r"[\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored or written as UTF-8, or None when it can."""
    if "\x00" in value:
        return "must not contain the NUL character"
    # isascii() is a flag CPython keeps on the string: no scan for the common case.
    if not value.isascii() and UNPAIRED_SURROGATE.search(value):
        return "must be valid UTF-8 (no unpaired surrogate, no undecodable byte)"
    return None
