"""One row of `make verify`'s table, and the two helpers every check uses to produce one."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from threadline_native.verify.http import HttpError

T = TypeVar("T")


class State(StrEnum):
    OK = "ok"
    BROKEN = "BROKEN"
    # A link only the compose stack has (a Tempo or Loki series or query); never a pass.
    COMPOSE_ONLY = "compose only"
    # Not checked in this run (a flag, or a part not written yet); never a pass either.
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Result:
    check: str
    subject: str
    state: State
    detail: str = ""

    @classmethod
    def judged(cls, check: str, subject: str, ok: bool, detail: str = "") -> Result:
        return cls(check, subject, State.OK if ok else State.BROKEN, detail)

    @property
    def broken(self) -> bool:
        return self.state is State.BROKEN


def eventually(probe: Callable[[], T], done: Callable[[T], bool], timeout: float) -> T:
    """Call probe until done(result) or timeout; return the last result.

    Backends take a few seconds to make new data queryable (batching, flush intervals), so a
    check waits for the link instead of failing on the first look.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = probe()
        except HttpError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)
            continue
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(1.0)


def guarded(check: str, subject: str, run: Callable[[], Result]) -> Result:
    """run(), or a BROKEN row naming the backend that did not answer."""
    try:
        return run()
    except HttpError as error:
        return Result(check, subject, State.BROKEN, str(error))
