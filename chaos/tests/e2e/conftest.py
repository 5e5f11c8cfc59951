"""The whole native stack for the chaos drills' end-to-end tests: reused when `make up` has it
running, else started here (and what this session started is stopped after). Without the
Go-built backends the tests are skipped with what to run, not built inside the test run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from threadline_native.component import Component, StackError
from threadline_native.component_control import recorded_mode
from threadline_native.components.goserver import GoServer
from threadline_native.stack import ensure_up, load_context, select, stop_components


@pytest.fixture(scope="session")
def stack() -> Iterator[list[Component]]:
    context = load_context()
    if recorded_mode(context) != "native":
        pytest.skip("the stack runs under compose; these tests drive the native stack")
    components = select(context)
    unbuilt = [c.name for c in components if isinstance(c, GoServer) and not c.binary().is_file()]
    if unbuilt:
        pytest.skip(f"backends not built yet ({', '.join(unbuilt)}); run `make build-backends`")
    try:
        started = ensure_up(components, progress=False)
    except StackError as error:
        pytest.fail(f"the native stack did not come up: {error}")
    try:
        yield components
    finally:
        stop_components(started)
