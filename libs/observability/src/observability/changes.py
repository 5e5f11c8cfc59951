"""The audit line of a runtime change: who changed what, from which value to which, and when.

Fault flags and runtime controls (log level, sampling ratio) change a running process; each
change is one log line here, at WARNING (so it survives any log level it may itself set),
with the actor as given and the peer address it came from. Values are the settings' own
(levels, ratios, flag descriptions): never a token.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, NamedTuple

__all__ = ["Actor", "log_change"]

_log = logging.getLogger("observability.changes")
# Its own level, so that the line saying the level became ERROR is written under it too.
_log.setLevel(logging.INFO)


class Actor(NamedTuple):
    """Who asked for a change: the name they gave and the peer address it came from."""

    name: str
    peer: str

    @classmethod
    def signal(cls, name: str) -> Actor:
        """A change asked for by a signal (SIGHUP): the process's operator, from this host."""
        return cls(name=name, peer="local signal")

    @classmethod
    def system(cls) -> Actor:
        """A change the process made itself (a fault flag's TTL ran out)."""
        return cls(name="ttl", peer="self")


def log_change(message: str, *, actor: Actor, what: str, old: Any, new: Any) -> None:
    """One WARNING line: ``message`` with actor, peer, what, old -> new and when (UTC)."""
    _log.warning(
        message,
        extra={
            "change.actor": actor.name,
            "change.peer": actor.peer,
            "change.what": what,
            "change.old": old,
            "change.new": new,
            "change.at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        },
    )
