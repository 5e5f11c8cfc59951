"""Fixtures of the user service's tests."""

from __future__ import annotations

import pytest

from user_service.testing import World


@pytest.fixture
def world() -> World:
    """Every port of the use cases, faked."""
    return World()
