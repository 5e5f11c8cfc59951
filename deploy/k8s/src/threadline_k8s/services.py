"""Which images are Threadline services: every service deploy/services.yaml lists (the two the
project ships with and those `make new-service` added), each image `threadline/<name>`."""

from __future__ import annotations

from functools import cache

from threadline_native.paths import find_project_root
from threadline_native.scaffold.registry import load_registry

IMAGE_PREFIX = "threadline/"


@cache
def service_names() -> tuple[str, ...]:
    return tuple(load_registry(find_project_root()).services)


def service_images() -> frozenset[str]:
    return frozenset(f"{IMAGE_PREFIX}{name}" for name in service_names())
