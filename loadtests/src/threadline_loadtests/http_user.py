"""HTTP users of the user service (FastHttpUser): a new customer and a returning one.

Request names are the route templates (`GET /v1/users/{id}`), the names the services' own
spans and RED metrics use, so a row of the Locust report lines up with a Grafana panel.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from locust import constant_throughput, task
from locust.contrib.fasthttp import FastHttpUser, ResponseContextManager

from threadline_loadtests.accounts import Account, new_identity
from threadline_loadtests.journeys import Journey
from threadline_loadtests.session import RequestContext, session_of

__all__ = ["AccountHolder", "NewCustomer", "TracedHttpUser"]

REGISTER = "POST /v1/users"
LOG_IN = "POST /v1/auth/token"
READ_OWN_PROFILE = "GET /v1/users/me"
READ_PROFILE = "GET /v1/users/{id}"
UPDATE_PROFILE = "PATCH /v1/users/{id}"


def _paced(user: TracedHttpUser) -> float:
    # Read at every wait, so `--user-rps` applies to whatever the run's options are.
    return float(constant_throughput(session_of(user.environment).options.user_rps)(user))


def _signup_paced(user: TracedHttpUser) -> float:
    pacing = session_of(user.environment).options.signup_pacing_seconds
    return float(constant_throughput(1.0 / pacing)(user))


class TracedHttpUser(FastHttpUser):
    """Sends every request inside a CLIENT span, with `traceparent` and synthetic baggage."""

    abstract = True
    journey: ClassVar[Journey]
    wait_time = _paced
    # Headers every request of this user class carries.
    extra_headers: ClassVar[dict[str, str]] = {}

    @contextmanager
    def call(
        self,
        method: str,
        path: str,
        *,
        name: str,
        expect: int,
        json: Any = None,
        token: str | None = None,
    ) -> Iterator[ResponseContextManager]:
        """One traced request; a status other than `expect` is a failure naming the problem."""
        session = session_of(self.environment)
        attributes = {
            "http.request.method": method,
            "http.route": name.partition(" ")[2],
            "url.path": path,
        }
        with session.tracer.client_call(name, attributes=attributes) as traced:
            headers = {**self.extra_headers, **traced.headers}
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            context = RequestContext(self.journey, traced.trace_id, traced.sampled)
            with self.client.request(
                method,
                path,
                name=name,
                json=json,
                headers=headers,
                catch_response=True,
                context=context.as_locust_context(),
            ) as response:
                traced.span.set_attribute("http.response.status_code", response.status_code)
                if response.status_code != expect:
                    reason = f"{name}: HTTP {response.status_code}, expected {expect}"
                    detail = _problem_title(response)
                    response.failure(f"{reason} ({detail})" if detail else reason)
                    traced.failed(reason)
                yield response

    def send(
        self,
        method: str,
        path: str,
        *,
        name: str,
        expect: int,
        json: Any = None,
        token: str | None = None,
    ) -> None:
        """`call` when the answer itself is not needed."""
        with self.call(method, path, name=name, expect=expect, json=json, token=token):
            pass

    def token(self, account: Account) -> str:
        return session_of(self.environment).account_pool().token_for(account)


def _problem_title(response: ResponseContextManager) -> str:
    # problem+json says what went wrong in one line; anything else is left out of the stats.
    error = getattr(response, "error", None)
    if response.status_code == 0 and error is not None:
        return type(error).__name__  # no response at all: refused, reset, timed out
    content_type = str(response.headers.get("content-type", "")) if response.headers else ""
    if "json" not in content_type:
        return ""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("title", "")) if isinstance(body, dict) else ""


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
        session = session_of(self.environment)
        identity = new_identity(session.run_id, f"new{random.getrandbits(40):010x}")
        with self.call(
            "POST", "/v1/users", name=REGISTER, expect=201, json=identity.registration()
        ) as created:
            if created.status_code != 201:
                return  # counted as a failure; the rest of the journey needs the account
            user_id = created.json()["id"]
        with self.call(
            "POST", "/v1/auth/token", name=LOG_IN, expect=200, json=identity.credentials()
        ) as issued:
            if issued.status_code != 200:
                return
            token = issued.json()["access_token"]
        self.send("GET", "/v1/users/me", name=READ_OWN_PROFILE, expect=200, token=token)
        self.send(
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
        self.account = session_of(self.environment).account_pool().next()

    @task(6)
    def read_own_profile(self) -> None:
        token = self.token(self.account)
        self.send("GET", "/v1/users/me", name=READ_OWN_PROFILE, expect=200, token=token)

    @task(3)
    def read_profile(self) -> None:
        token = self.token(self.account)
        path = f"/v1/users/{self.account.id}"
        self.send("GET", path, name=READ_PROFILE, expect=200, token=token)

    @task(1)
    def update_profile(self) -> None:
        self.send(
            "PATCH",
            f"/v1/users/{self.account.id}",
            name=UPDATE_PROFILE,
            expect=200,
            json={"full_name": f"Load Test {random.getrandbits(32):08x}"},
            token=self.token(self.account),
        )
