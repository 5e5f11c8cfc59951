"""What every natively run server provides: where it listens, how to prepare, start and probe it."""

from __future__ import annotations

import signal
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from threadline_native.paths import Layout
from threadline_native.process import Launch, PidFile


class StackError(Exception):
    """A problem the user can act on; the CLI prints it without a traceback."""


@dataclass(frozen=True)
class Context:
    """What components share: the project's directories and its pinned versions."""

    layout: Layout
    versions: dict[str, str]

    def version(self, key: str) -> str:
        try:
            return self.versions[key]
        except KeyError:
            raise StackError(f"{key} is missing from {self.layout.versions_file}") from None


class Component(ABC):
    """One third-party server of the stack, run as a local process."""

    name: ClassVar[str]
    port: ClassVar[int]
    # Other loopback ports it binds, checked before start so a clash is reported clearly.
    extra_ports: ClassVar[tuple[int, ...]] = ()
    startup_timeout: ClassVar[float] = 60.0
    stop_timeout: ClassVar[float] = 30.0
    stop_signal: ClassVar[signal.Signals] = signal.SIGTERM

    def __init__(self, context: Context) -> None:
        self.context = context
        self.layout = context.layout
        self.pid_file = PidFile(self.layout.pids_dir / f"{self.name}.pid")

    @property
    @abstractmethod
    def title(self) -> str:
        """Human name with version, e.g. 'PostgreSQL 15'."""

    @property
    @abstractmethod
    def url(self) -> str:
        """Where clients connect."""

    @abstractmethod
    def healthy(self) -> bool:
        """True when a server we can use answers on our port (ours or one already running)."""

    @abstractmethod
    def prepare(self) -> None:
        """Fetch, build or initialise whatever start needs; idempotent and cached."""

    @abstractmethod
    def launch(self) -> Launch:
        """The foreground command that runs the server."""

    def after_start(self) -> None:  # noqa: B027 - optional hook
        """Bring a running server to the state the project needs (databases, topics...)."""

    def status_lines(self) -> list[str]:
        """What `stack ps` shows below the table about this running server (e.g. its proxies)."""
        return []
