"""HTTP users of the user service: a new customer and a returning one.

Request names are the route templates (`GET /v1/users/{id}`), the names the services' own
spans and RED metrics use, so a row of the Locust report lines up with a Grafana panel.

The users speak HTTP/1.1 through geventhttpclient's `HTTPClient`, the client under Locust's
`FastHttpUser`, without the requests-compatible layer `FastHttpUser` adds on top of it
(cookie jar, redirects, URL joining, response wrappers): the API is bearer tokens and JSON, and
that layer cost the load generator about a third of its CPU per request, CPU a confined
generator takes from the load it can offer. Each user keeps one keep-alive connection, as one
client would; the client reconnects when the server closed it between requests.
"""

from __future__ import annotations

import json as json_codec
import random
import time
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from geventhttpclient import HTTPClient
from geventhttpclient.response import HTTPParseError
from locust import User, constant_throughput, task
from locust.env import Environment

from threadline_loadtests.accounts import Account, new_identity
from threadline_loadtests.journeys import Journey
from threadline_loadtests.session import RequestContext, session_of

__all__ = ["AccountHolder", "HttpFailureError", "NewCustomer", "Reply", "TracedHttpUser"]

REGISTER = "POST /v1/users"
LOG_IN = "POST /v1/auth/token"
READ_OWN_PROFILE = "GET /v1/users/me"
READ_PROFILE = "GET /v1/users/{id}"
UPDATE_PROFILE = "PATCH /v1/users/{id}"

# FastHttpUser's defaults: a request slower than this is a failure, not a hang.
CONNECT_TIMEOUT_SECONDS = 60.0
NETWORK_TIMEOUT_SECONDS = 60.0
# Refused, reset, timed out, or not HTTP: a request that got no answer at all.
TRANSPORT_ERRORS = (OSError, HTTPParseError)


class HttpFailureError(Exception):
    """A failed request as the statistics show it: what was expected, what came back."""


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer, read whole; status 0 when there was none (refused, reset, timed out)."""

    status: int
    body: bytes = b""
    content_type: str = ""

    def json(self) -> Any:
        return json_codec.loads(self.body)

    def problem_title(self) -> str:
        """problem+json's one-line title; anything else is left out of the statistics."""
        if "json" not in self.content_type:
            return ""
        try:
            body = self.json()
        except ValueError:
            return ""
        return str(body.get("title", "")) if isinstance(body, dict) else ""


def _paced(user: TracedHttpUser) -> float:
    # Read at every wait, so `--user-rps` applies to whatever the run's options are.
    return float(constant_throughput(user.session.options.user_rps)(user))


def _signup_paced(user: TracedHttpUser) -> float:
    return float(constant_throughput(1.0 / user.session.options.signup_pacing_seconds)(user))


class TracedHttpUser(User):
    """Sends every request with a trace of its own: `traceparent` and synthetic baggage."""

    abstract = True
    journey: ClassVar[Journey]
    wait_time = _paced
    # Headers every request of this user class carries.
    extra_headers: ClassVar[dict[str, str]] = {}

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.session = session_of(environment)
        if not self.host:
            raise RuntimeError("--host (the user service's base URL) is required")
        self.http = HTTPClient.from_url(
            self.host,
            concurrency=1,
            connection_timeout=CONNECT_TIMEOUT_SECONDS,
            network_timeout=NETWORK_TIMEOUT_SECONDS,
        )
        # A base URL with a path (`http://gateway/users-api`) prefixes every request's path.
        self.base_path = urlsplit(self.host).path.rstrip("/")

    def on_stop(self) -> None:
        self.http.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        name: str,
        expect: int,
        json: Any = None,
        token: str | None = None,
    ) -> Reply:
        """One traced request, reported to Locust; a status other than `expect` is a failure."""
        attributes = {
            "http.request.method": method,
            "http.route": name.partition(" ")[2],
            "url.path": path,
        }
        with self.session.tracer.client_call(name, attributes=attributes) as traced:
            headers = {**self.extra_headers, **traced.headers}
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            body = b""
            if json is not None:
                body = json_codec.dumps(json).encode()
                headers["Content-Type"] = "application/json"
            started = time.perf_counter()
            reply, error = self._send(method, path, body, headers)
            elapsed_ms = (time.perf_counter() - started) * 1000
            failure: HttpFailureError | None = None
            if reply.status:
                traced.set_attribute("http.response.status_code", reply.status)
            if reply.status != expect:
                reason = f"{name}: HTTP {reply.status}, expected {expect}"
                detail = type(error).__name__ if error is not None else reply.problem_title()
                failure = HttpFailureError(f"{reason} ({detail})" if detail else reason)
                traced.failed(reason)
            self.environment.events.request.fire(
                request_type=method,
                name=name,
                response_time=elapsed_ms,
                response_length=len(reply.body),
                response=reply,
                context=RequestContext(
                    self.journey, traced.trace_id, traced.sampled
                ).as_locust_context(),
                exception=failure,
            )
        return reply

    def _send(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[Reply, Exception | None]:
        try:
            response = self.http.request(method, self.base_path + path, body=body, headers=headers)
            try:
                content = response.read()
            finally:
                response.release()
        except TRANSPORT_ERRORS as error:
            return Reply(status=0), error
        content_type = response.get("content-type") or ""
        return Reply(response.status_code, content, str(content_type)), None

    def token(self, account: Account) -> str:
        return self.session.account_pool().token_for(account)


class NewCustomer(TracedHttpUser):
    """Signs up, paced: register, log in, read the new profile, complete it."""

    journey = Journey.SIGNUP
    # One of these whatever the user count: sign-ups are throttled and hash passwords on
    # purpose; the load of a run is its returning customers.
    fixed_count = 1
    wait_time = _signup_paced
    # A new customer is a new client. And a connection idle for the pacing (5 s) is one the
    # server's keep-alive timeout (uvicorn: 5 s) closes just as it is reused: a failure of the
    # load generator's making, not the service's.
    extra_headers: ClassVar[dict[str, str]] = {"Connection": "close"}

    @task
    def sign_up(self) -> None:
        identity = new_identity(self.session.run_id, f"new{random.getrandbits(40):010x}")
        created = self.call(
            "POST", "/v1/users", name=REGISTER, expect=201, json=identity.registration()
        )
        if created.status != 201:
            return  # counted as a failure; the rest of the journey needs the account
        user_id = created.json()["id"]
        issued = self.call(
            "POST", "/v1/auth/token", name=LOG_IN, expect=200, json=identity.credentials()
        )
        if issued.status != 200:
            return
        token = issued.json()["access_token"]
        self.call("GET", "/v1/users/me", name=READ_OWN_PROFILE, expect=200, token=token)
        self.call(
            "PATCH",
            f"/v1/users/{user_id}",
            name=UPDATE_PROFILE,
            expect=200,
            json={"full_name": f"{identity.full_name} (verified)"},
            token=token,
        )


class AccountHolder(TracedHttpUser):
    """A returning customer on their profile: mostly reads, now and then an update."""

    journey = Journey.ACCOUNT
    weight = 1

    def on_start(self) -> None:
        self.account = self.session.account_pool().next()

    @task(6)
    def read_own_profile(self) -> None:
        token = self.token(self.account)
        self.call("GET", "/v1/users/me", name=READ_OWN_PROFILE, expect=200, token=token)

    @task(3)
    def read_profile(self) -> None:
        token = self.token(self.account)
        path = f"/v1/users/{self.account.id}"
        self.call("GET", path, name=READ_PROFILE, expect=200, token=token)

    @task(1)
    def update_profile(self) -> None:
        self.call(
            "PATCH",
            f"/v1/users/{self.account.id}",
            name=UPDATE_PROFILE,
            expect=200,
            json={"full_name": f"Load Test {random.getrandbits(32):08x}"},
            token=self.token(self.account),
        )
