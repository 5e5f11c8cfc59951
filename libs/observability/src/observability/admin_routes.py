"""The admin port's /admin routes: fault flags and runtime controls, as JSON over HTTP.

::

    GET    /admin/faults          200 {"faults": [Fault, ...], "enabled": bool}
    POST   /admin/faults          {"target", "error_ratio", "latency_ms", "ttl_seconds", "actor"}
                                  201 Fault
    DELETE /admin/faults          200 {"cleared": n}
    DELETE /admin/faults/{id}     200 Fault removed, 404 when no live flag has that id
    GET    /admin/log-level       200 {"level"}
    PUT    /admin/log-level       {"level", "actor"}   200 {"level", "previous"}
    GET    /admin/sampling        200 {"sampler", "ratio", "adjustable"}
    PUT    /admin/sampling        {"ratio", "actor"}   200 {"sampler", "ratio", "adjustable",
                                                            "previous"}

A body that is not JSON, has an unknown member or a value out of bounds is a 400
problem+json naming the field (``errors[0].pointer``), and nothing changes. Who may call these
is the server's business (`observability.admin`): the token, or a loopback peer for changes.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from observability.admin_http import AdminRequest, Reply, json_reply, problem
from observability.changes import Actor
from observability.faults import (
    MAX_TTL_SECONDS,
    FaultInjectionDisabledError,
    FaultRegistry,
    InvalidFaultError,
)
from observability.runtime_controls import (
    InvalidControlError,
    RuntimeControls,
    SamplingNotAdjustableError,
)

__all__ = ["ControlRoutes"]

FAULTS: Final = "/admin/faults"
LOG_LEVEL: Final = "/admin/log-level"
SAMPLING: Final = "/admin/sampling"

# Printable, short: it lands in audit lines.
ActorName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")]


class _Body(BaseModel):
    # strict: "0.5" is not a ratio and 1.5 is not a number of milliseconds.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    actor: ActorName = "anonymous"


class FaultBody(_Body):
    target: Annotated[str, Field(min_length=1, max_length=200)]
    error_ratio: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] = 0.0
    latency_ms: Annotated[int, Field(ge=0, le=60_000)] = 0
    ttl_seconds: Annotated[int, Field(ge=1, le=MAX_TTL_SECONDS)]


class LogLevelBody(_Body):
    level: Annotated[str, Field(min_length=1, max_length=20)]


class SamplingBody(_Body):
    ratio: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


BodyT = TypeVar("BodyT", bound=_Body)


class _RefusedError(Exception):
    def __init__(self, reply: Reply) -> None:
        self.reply = reply


def _parse(model: type[BodyT], body: bytes) -> BodyT:
    """The body as ``model``, or a 400 naming the first wrong field."""
    try:
        return model.model_validate_json(body or b"")
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        location = [str(part) for part in first["loc"]]
        if first["type"] == "json_invalid" or not location:
            raise _RefusedError(
                problem(400, f"body: not a JSON object ({first['msg']})", field="#")
            ) from None
        name = location[0]
        message = "unknown member" if first["type"] == "extra_forbidden" else first["msg"]
        raise _RefusedError(problem(400, f"{name}: {message}", field=name)) from None


class ControlRoutes:
    """Serves the /admin paths over a `FaultRegistry` and `RuntimeControls`."""

    def __init__(self, *, faults: FaultRegistry, runtime: RuntimeControls) -> None:
        self._faults = faults
        self._runtime = runtime

    async def handle(self, request: AdminRequest) -> Reply:
        try:
            return self._dispatch(request)
        except _RefusedError as refused:
            return refused.reply

    def _dispatch(self, request: AdminRequest) -> Reply:
        path = request.path.rstrip("/") or "/"
        if path == FAULTS:
            return self._on(
                request, GET=self._list_faults, POST=self._set_fault, DELETE=self._clear
            )
        if path.startswith(FAULTS + "/") and "/" not in path[len(FAULTS) + 1 :]:
            fault_id = path[len(FAULTS) + 1 :]
            return self._on(request, DELETE=lambda r: self._remove(r, fault_id))
        if path == LOG_LEVEL:
            return self._on(request, GET=self._get_level, PUT=self._put_level)
        if path == SAMPLING:
            return self._on(request, GET=self._get_sampling, PUT=self._put_sampling)
        return problem(404, f"no admin route {path}")

    @staticmethod
    def _on(request: AdminRequest, **handlers: Any) -> Reply:
        method = "GET" if request.method == "HEAD" else request.method
        handler = handlers.get(method)
        if handler is None:
            allowed = ", ".join(sorted(handlers))
            return problem(
                405,
                f"{request.method} is not served here; use {allowed}",
                headers=(("Allow", allowed),),
            )
        reply: Reply = handler(request)
        return reply

    @staticmethod
    def _actor(request: AdminRequest, body: _Body) -> Actor:
        return Actor(name=body.actor, peer=request.peer)

    # Faults --------------------------------------------------------------------------------

    def _list_faults(self, _: AdminRequest) -> Reply:
        faults = [fault.as_dict() for fault in self._faults.active()]
        return json_reply(200, {"faults": faults, "enabled": self._faults.enabled})

    def _set_fault(self, request: AdminRequest) -> Reply:
        body = _parse(FaultBody, request.body)
        try:
            fault = self._faults.set(
                target=body.target,
                error_ratio=body.error_ratio,
                latency_ms=body.latency_ms,
                ttl_seconds=body.ttl_seconds,
                actor=self._actor(request, body),
            )
        except InvalidFaultError as error:
            return problem(400, str(error), field=error.field)
        except FaultInjectionDisabledError as error:
            return problem(403, str(error), slug="fault-injection-disabled")
        return json_reply(201, fault.as_dict())

    def _clear(self, request: AdminRequest) -> Reply:
        actor = self._actor(request, _parse(_Body, request.body or b"{}"))
        return json_reply(200, {"cleared": len(self._faults.clear(actor=actor))})

    def _remove(self, request: AdminRequest, fault_id: str) -> Reply:
        actor = self._actor(request, _parse(_Body, request.body or b"{}"))
        fault = self._faults.remove(fault_id, actor=actor)
        if fault is None:
            return problem(404, f"no live fault flag has id {fault_id[:40]!r}")
        return json_reply(200, fault.as_dict())

    # Runtime controls ----------------------------------------------------------------------

    def _get_level(self, _: AdminRequest) -> Reply:
        return json_reply(200, {"level": self._runtime.log_level})

    def _put_level(self, request: AdminRequest) -> Reply:
        body = _parse(LogLevelBody, request.body)
        try:
            previous = self._runtime.set_log_level(body.level, actor=self._actor(request, body))
        except InvalidControlError as error:
            return problem(400, str(error), field=error.field)
        return json_reply(200, {"level": self._runtime.log_level, "previous": previous})

    def _get_sampling(self, _: AdminRequest) -> Reply:
        return json_reply(200, self._runtime.sampling)

    def _put_sampling(self, request: AdminRequest) -> Reply:
        body = _parse(SamplingBody, request.body)
        try:
            previous = self._runtime.set_sampling_ratio(
                body.ratio, actor=self._actor(request, body)
            )
        except InvalidControlError as error:
            return problem(400, str(error), field=error.field)
        except SamplingNotAdjustableError as error:
            return problem(409, str(error), slug="sampling-not-adjustable")
        return json_reply(200, {**self._runtime.sampling, "previous": previous})
