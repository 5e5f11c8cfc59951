"""Malformed bodies sent to the running service over one keep-alive connection.

The penetration test's sequence: a registration whose name PostgreSQL cannot store (then a 500,
after which uvicorn closed the connection without saying so), then a body that is not even
UTF-8 on the same connection (then lost: no response, no log line). Now each is a 4xx problem
on a connection that stays open, and each leaves one "request refused" line in its trace.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from threadline_testing.known_secrets import register_secret

pytestmark = pytest.mark.e2e

PASSWORD = register_secret("correct horse battery staple", "password")
PROBLEM = "application/problem+json"


def test_malformed_bodies_on_one_connection_each_get_a_problem_and_a_log_line(
    service_process: Any,
) -> None:
    address = urlsplit(service_process.base_url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    password = PASSWORD.encode()
    sent = [
        b'{"email": "ada@example.com", "full_name": "A\\u0000", "password": "%s"}' % password,
        b'{"email": "ada@example.com", "full_name": "Ad\xff", "password": "%s"}' % password,
        b'{"email": "ada@example.com", "full_name": "Ada", "password": "a\\ud800 long one"}',
        b'"\xff',
    ]
    answers = []
    try:
        for body in sent:
            connection.request(
                "POST", "/v1/users", body=body, headers={"Content-Type": "application/json"}
            )
            response = connection.getresponse()
            answers.append((response.status, response.getheader("Content-Type"), response.read()))
    finally:
        connection.close()

    assert [(status, kind) for status, kind, _ in answers] == [(422, PROBLEM)] * 4
    pointers = [
        [error.get("pointer") for error in json.loads(body)["errors"]] for *_, body in answers
    ]
    assert pointers == [["#/full_name"], ["#/full_name"], ["#/password"], ["#"]]

    time.sleep(0.2)
    records = service_process.log_records()
    refusals = [record for record in records if record.get("message") == "request refused"]
    assert len(refusals) == 4
    assert all(record["trace_id"] and record["span_id"] for record in refusals)
    assert "ada@example.com" not in service_process.log()
    assert not [record for record in records if record.get("level") == "ERROR"]
