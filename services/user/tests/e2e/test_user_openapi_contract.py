"""The OpenAPI document tells the truth: `st run --checks all`, every phase, against the process.

Schemathesis's engine (what `st run` runs) loads the running service's own /openapi.json and
goes through its four phases against `user-service serve` over real PostgreSQL and Redis:
examples, coverage (boundaries, every way to be invalid, undeclared methods), fuzzing (valid
and invalid data) and stateful (sequences following the document's links from POST /v1/users
to the user it registered), with every check enabled. Its pytest integration cannot run that
here: `from_fixture` reads the `Item._nodeid` pytest 9.2 dropped, and a state machine run by
Hypothesis alone trips over schemathesis's run-wide scheduling (FlakyStrategyDefinition), which
the engine handles.

Requests are authenticated as the owner of what they touch: a user registered for the run, and
for a request about a user the run registered, that user (logged in right after registering).

No check is excluded. The API's one documented behaviour a check would misread is that someone
else's record answers 404, exactly like a missing one (README, Authorization): with a single
identity, `ensure_resource_availability` would report every user the stateful phase registers
as "created, then not found". Acting as the owner is the answer, not an exclusion.

Bounded by examples per operation and steps per scenario (about 15 s of schemathesis on two
cores), with a time budget over the whole test, and generated from a fixed seed: a failure here
reproduces on the next run. (Schemathesis's own `max-time` is a duration, not a cap: given one,
it keeps generating until the time is up.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.engine import Status, StopReason, events, from_schema

from threadline_testing.known_secrets import register_secret

EXAMPLES_PER_OPERATION = 100  # fuzzing, valid and invalid together: `st run`'s default
STEPS_PER_SCENARIO = 10
TIME_BUDGET_SECONDS = 120  # service start-up included

pytestmark = [pytest.mark.e2e, pytest.mark.security, pytest.mark.timeout(TIME_BUDGET_SECONDS)]
PHASES = ("examples", "coverage", "fuzzing", "stateful")
# What the links of POST /v1/users lead to: each must have answered 2xx in the stateful phase.
LINKED_OPERATIONS = (
    "GET /v1/users/{user_id}",
    "PATCH /v1/users/{user_id}",
    "DELETE /v1/users/{user_id}",
)
OWNER = {"email": "owner@example.com", "full_name": "Run Owner", "password": "the run's passphrase"}

CONFIG = {
    "checks": {"enabled": True},
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": True, "max-steps": STEPS_PER_SCENARIO},
    },
    "generation": {"mode": "all", "max-examples": EXAMPLES_PER_OPERATION, "deterministic": True},
    # Nothing written into the working tree (failing cases would land in ./.schemathesis).
    "cache": {"enabled": False},
}


def log_in(base_url: str, email: str, password: str) -> str:
    """An access token; the password and the token are registered for the leak check."""
    register_secret(password, "password")
    response = httpx.post(f"{base_url}/v1/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = register_secret(response.json()["access_token"], "access token")
    return token


@dataclass
class Owners:
    """The access token of whoever owns what a request is about."""

    base_url: str
    own_token: str
    tokens_by_user_id: dict[str, str] = field(default_factory=dict)

    def token_for(self, case: schemathesis.Case[Any]) -> str:
        user_id = (case.path_parameters or {}).get("user_id")
        return self.tokens_by_user_id.get(str(user_id), self.own_token)

    def after_call(
        self,
        _: schemathesis.HookContext,
        case: schemathesis.Case[Any],
        response: schemathesis.Response,
    ) -> None:
        """After a registration, log in as the new user with what was sent."""
        if case.operation.label == "POST /v1/users" and response.status_code == 201:
            assert isinstance(case.body, dict)
            token = log_in(self.base_url, str(case.body["email"]), str(case.body["password"]))
            self.tokens_by_user_id[response.json()["id"]] = token


def load_as_owner(base_url: str) -> schemathesis.BaseSchema:
    """The service's own document, each request authenticated as described above."""
    registered = httpx.post(f"{base_url}/v1/users", json=OWNER)
    assert registered.status_code == 201, registered.text
    owners = Owners(base_url, log_in(base_url, OWNER["email"], OWNER["password"]))
    schema = schemathesis.openapi.from_url(
        f"{base_url}/openapi.json", config=schemathesis.Config.from_dict(CONFIG)
    )

    # Not cached: the token depends on the request.
    @schema.auth(refresh_interval=None)
    class OwnerBearer:
        def get(self, case: schemathesis.Case[Any], _: schemathesis.AuthContext) -> str:
            return owners.token_for(case)

        def set(
            self, case: schemathesis.Case[Any], token: str, _: schemathesis.AuthContext
        ) -> None:
            case.headers["Authorization"] = f"Bearer {token}"

    schema.hooks.register_hook_with_name(owners.after_call, "after_call")
    return schema


@dataclass
class Run:
    """What one engine run found, from its event stream."""

    phases: dict[str, Status] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cases: int = 0
    checks: int = 0
    # 2xx answers in the stateful phase, by operation.
    stateful_successes: Counter[str] = field(default_factory=Counter)
    stop_reason: StopReason | None = None
    seconds: float = 0.0

    @classmethod
    def of(cls, stream: Iterable[events.EngineEvent]) -> Run:
        run = cls()
        for event in stream:
            if isinstance(event, events.PhaseFinished):
                run.phases[event.phase.name.value] = event.status
            elif isinstance(event, events.ScenarioFinished):
                run.add(event)
            elif isinstance(event, events.NonFatalError):
                run.errors.append(f"{event.label}: {event.value!r}")
            elif isinstance(event, events.FatalError):
                run.errors.append(repr(event.exception))
            elif isinstance(event, events.EngineFinished):
                run.stop_reason, run.seconds = event.stop_reason, event.running_time
        return run

    def add(self, scenario: events.ScenarioFinished) -> None:
        recorder = scenario.recorder
        self.cases += len(recorder.cases)
        for case_id, checks in recorder.checks.items():
            self.checks += len(checks)
            for check in checks:
                if check.failure_info is not None:
                    failure = check.failure_info.failure
                    self.failures.append(
                        f"[{scenario.phase.value}] {failure.operation}: {check.name} "
                        f"({failure.code} {failure.title})\n{failure.message}\n"
                        f"{check.failure_info.code_sample}"
                    )
            interaction = recorder.interactions.get(case_id)
            if (
                scenario.phase.value == "stateful"
                and interaction is not None
                and interaction.response is not None
                and 200 <= interaction.response.status_code < 300
            ):
                self.stateful_successes[recorder.cases[case_id].value.operation.label] += 1

    def summary(self) -> str:
        phases = ", ".join(f"{name} {status.value}" for name, status in self.phases.items())
        return (
            f"schemathesis ({phases}; stopped: {self.stop_reason}): {self.cases} cases, "
            f"{self.checks} checks, {len(self.failures)} failures, {len(self.errors)} errors "
            f"in {self.seconds:.1f} s; 2xx in the stateful phase: {dict(self.stateful_successes)}"
        )


def test_every_phase_and_every_check_of_schemathesis_passes_as_the_owner(
    service_process: Any,
) -> None:
    run = Run.of(from_schema(load_as_owner(service_process.base_url)).execute())
    print(run.summary())

    assert not run.errors, "\n\n".join(run.errors)
    assert not run.failures, "\n\n".join(run.failures)
    assert run.stop_reason is StopReason.COMPLETED, run.summary()
    assert {phase: run.phases.get(phase) for phase in PHASES} == dict.fromkeys(
        PHASES, Status.SUCCESS
    ), run.summary()
    # The links took the stateful phase to real users, not to 404s.
    assert all(run.stateful_successes[operation] for operation in LINKED_OPERATIONS), run.summary()
