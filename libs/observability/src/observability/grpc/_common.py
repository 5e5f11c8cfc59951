"""Pieces shared by the gRPC server and client interceptors."""

from __future__ import annotations

from typing import Any

import grpc

_BY_VALUE = {code.value[0]: code for code in grpc.StatusCode}


_GO_SPELLINGS = {grpc.StatusCode.OK: "OK", grpc.StatusCode.CANCELLED: "Canceled"}


def _metric_label(code: grpc.StatusCode) -> str:
    # Go's spelling (codes.Code.String()): the enum's words joined, but OK and Canceled.
    return _GO_SPELLINGS.get(code) or "".join(w.capitalize() for w in code.name.split("_"))


#: The ``grpc_code`` label value per status, spelt as go-grpc-prometheus and grpc-go spell it
#: (``Unavailable``, ``InvalidArgument``): the convention the SLO rules, the alerts and every
#: community gRPC dashboard match on. Python's enum names (``UNAVAILABLE``) would match none.
METRIC_CODE_LABELS: dict[grpc.StatusCode, str] = {
    code: _metric_label(code) for code in grpc.StatusCode
}


def split_method(full_method: str) -> tuple[str, str]:
    """``/order.v1.OrderService/CreateOrder`` -> (``order.v1.OrderService``, ``CreateOrder``)."""
    service, _, method = full_method.lstrip("/").rpartition("/")
    return (service or "unknown", method or "unknown")


def as_status_code(value: Any, default: grpc.StatusCode) -> grpc.StatusCode:
    """Normalise what ``context.code()`` returns across grpcio versions (enum, int or None)."""
    if isinstance(value, grpc.StatusCode):
        return value
    if isinstance(value, int):
        return _BY_VALUE.get(value, grpc.StatusCode.UNKNOWN)
    return default


def rpc_attributes(service: str, method: str) -> dict[str, Any]:
    """The RPC semantic-convention attributes of a span for ``service/method``."""
    return {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method}
