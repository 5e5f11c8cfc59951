"""The password policy, after NIST SP 800-63B: length over composition rules.

Long passphrases are welcome, composition rules ("one digit, one symbol") are not, and the
few passwords every cracker tries first are refused outright.
"""

from __future__ import annotations

import unicodedata
from typing import Final

from user_service.domain.errors import PasswordPolicyError

MIN_LENGTH: Final = 12
# Bounded so a client cannot make us hash megabytes; 800-63B asks for at least 64.
MAX_LENGTH: Final = 128
MIN_DISTINCT_CHARACTERS: Final = 5

# The most common passwords of at least MIN_LENGTH characters in public breach corpora.
_COMMON: Final = frozenset(
    {
        "123456789012",
        "1234567890123",
        "qwertyuiopasdf",
        "qwertyuiop123",
        "password1234",
        "password12345",
        "password123456",
        "passwordpassword",
        "iloveyou1234",
        "letmein12345",
        "welcome12345",
        "administrator",
        "changeme1234",
        "trustno1trustno1",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "zaq12wsxcde3",
        "qazwsxedcrfv",
        "abcdefghijkl",
        "abc123abc123",
    }
)


def normalise_password(password: str) -> str:
    """NFKC, so the same passphrase typed on two keyboards hashes the same (800-63B 5.1.1.2)."""
    return unicodedata.normalize("NFKC", password)


def check_password_policy(password: str, *, email: str) -> None:
    """Raise `PasswordPolicyError` naming the first rule the password breaks.

    Length is counted in code points as typed (800-63B 5.1.1.2 counts code points; JSON Schema's
    minLength and maxLength count the same, so the API states it exactly); the other rules look
    at the normalised, case-folded password.
    """
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"the password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"the password must have at most {MAX_LENGTH} characters")
    folded = normalise_password(password).casefold()
    if len(set(folded)) < MIN_DISTINCT_CHARACTERS:
        raise PasswordPolicyError(
            f"the password must use at least {MIN_DISTINCT_CHARACTERS} different characters"
        )
    if folded in _COMMON:
        raise PasswordPolicyError("the password is too common")
    local_part = email.rpartition("@")[0].casefold()
    if len(local_part) >= 4 and local_part in folded:
        raise PasswordPolicyError("the password must not contain the email address")
