"""What this drill run has broken and not yet mended: processes it stopped or paused.

Toxics and fault flags are cleared wholesale (Toxiproxy reset, DELETE /admin/faults), so they
need no record; a stopped process must be started again and a paused one continued, which only
the run that did it knows. One drill is one process, so a module-level record is the run's.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_stopped: list[str] = []
_paused: list[str] = []


def note_stopped(component: str) -> None:
    with _lock:
        if component not in _stopped:
            _stopped.append(component)


def note_started(component: str) -> None:
    with _lock:
        if component in _stopped:
            _stopped.remove(component)


def note_paused(component: str) -> None:
    with _lock:
        if component not in _paused:
            _paused.append(component)


def note_resumed(component: str) -> None:
    with _lock:
        if component in _paused:
            _paused.remove(component)


def outstanding() -> tuple[list[str], list[str]]:
    """(stopped, paused) components not yet mended, in the order they were broken."""
    with _lock:
        return list(_stopped), list(_paused)
