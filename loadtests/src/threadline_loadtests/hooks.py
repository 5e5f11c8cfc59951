"""Locust event handlers: options, a session per environment, test data, the summary on exit.

Importing this module registers them; the locustfile does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from locust import events
from locust.env import Environment
from locust.event import EventHook
from locust.runners import MasterRunner

from threadline_loadtests.options import LoadOptions, add_arguments
from threadline_loadtests.session import LoadSession, attach, session_of
from threadline_loadtests.summary import build_summary

_log = logging.getLogger("loadtests")


def listen(hook: EventHook, listener: Callable[..., None]) -> None:
    """`hook.add_listener(listener)`: Locust leaves that method unannotated."""
    hook.add_listener(listener)  # type: ignore[no-untyped-call]


def _add_options(parser: Any, **_: Any) -> None:
    add_arguments(parser)


def _create_session(environment: Environment, **_: Any) -> None:
    session = LoadSession.create(LoadOptions.from_parsed(environment.parsed_options))
    attach(environment, session)
    listen(environment.events.request, session.on_request)
    listen(environment.events.usage_monitor, session.on_usage)

    def track_users_and_reset(user_count: int, **_: Any) -> None:
        session.peak_users = max(session.peak_users, user_count)
        if environment.reset_stats:  # Locust resets its statistics now; ours go with them
            session.reset()

    listen(environment.events.spawning_complete, track_users_and_reset)
    listen(environment.events.reset_stats, session.reset)

    def close_cpu_window(**_: Any) -> None:
        session.stopping(requests=environment.stats.total.num_requests)

    listen(environment.events.test_stopping, close_cpu_window)


def _prepare_test_data(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, MasterRunner):
        return  # workers prepare their own; the master sends no requests
    session = session_of(environment)
    if not environment.host:
        raise RuntimeError("--host (the user service's base URL) is required")
    session.prepare(host=environment.host)
    _log.info(
        "%d accounts ready (run %s); requests before this point are not measured",
        len(session.account_pool()),
        session.run_id,
    )
    # Preparing took time and sent requests of its own: measure from here.
    environment.stats.reset_all()
    session.reset()


def _write_summary(environment: Environment, **_: Any) -> None:
    session = session_of(environment)
    session.tracer.shutdown()
    if session.options.summary_file and not isinstance(environment.runner, MasterRunner):
        build_summary(environment, session).write(Path(session.options.summary_file))


listen(events.init_command_line_parser, _add_options)
listen(events.init, _create_session)
listen(events.test_start, _prepare_test_data)
listen(events.quitting, _write_summary)
