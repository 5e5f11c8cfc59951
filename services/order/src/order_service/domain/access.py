"""Who is calling: the user an access token names, and the token to forward on their behalf."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: uuid.UUID
    # Forwarded to the user service, so it checks the caller's own rights; never logged.
    token: str = field(repr=False)
