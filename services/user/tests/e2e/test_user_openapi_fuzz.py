"""Property-based fuzzing of the running service from its own OpenAPI schema (schemathesis).

Every operation gets a bounded number of generated requests, valid ones and invalid ones,
with an admin's token, so the authenticated paths are reached. Whatever
arrives, the service must not answer 5xx, and every answer must be documented: its status,
its content type and its body's schema.
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

pytestmark = pytest.mark.e2e

EXAMPLES_PER_OPERATION = 20  # per operation and mode (valid, invalid)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_no_operation_answers_5xx_or_off_schema(service_process: Any, admin_token: str) -> None:
    schema = schemathesis.openapi.from_url(f"{service_process.base_url}/openapi.json")
    headers = {"Authorization": f"Bearer {admin_token}"}
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    assert len(operations) == 9

    for operation, mode in itertools.product(operations, GenerationMode):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(
                base_url=service_process.base_url, headers=headers, checks=CHECKS
            )

        try:
            fuzz()
        except Unsatisfiable:
            # An operation without parameters or body has no invalid form to generate.
            if mode is not GenerationMode.NEGATIVE:
                raise
    # The fuzzing happened: the service saw the generated requests, and still stands.
    exposition = httpx.get(f"{service_process.admin_url}/metrics").text
    handled = sum(
        float(line.rsplit(" ", 1)[1])
        for line in exposition.splitlines()
        if line.startswith("http_server_request_duration_seconds_count")
    )
    print(f"{handled:.0f} requests handled")
    assert handled >= len(operations) * 10
    assert httpx.get(f"{service_process.admin_url}/healthz").status_code == 200
