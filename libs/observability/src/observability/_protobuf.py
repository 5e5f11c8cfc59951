"""Protobuf wire-format pieces shared by the lean OTLP encoders (`otlp`, `otlp_logs`).

Only what OTLP's hot fields need: varints, length-delimited fields, scalar ``AnyValue``s and
``KeyValue`` attributes, plus a cache of encoded resources and instrumentation scopes. Anything
rarer is left to the stock encoder by the callers.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from opentelemetry.exporter.otlp.proto.common._internal import (
    _encode_attributes,
    _encode_instrumentation_scope,
    _encode_resource,
)

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope

__all__ = [
    "Encoded",
    "EncodingCache",
    "any_value",
    "attributes",
    "encode_by_resource_and_scope",
    "field",
    "pack_double",
    "pack_fixed32",
    "pack_fixed64",
    "string",
    "varint",
]

pack_fixed32 = struct.Struct("<I").pack
pack_fixed64 = struct.Struct("<Q").pack
pack_double = struct.Struct("<d").pack

# Attribute key/value pairs recur on nearly every span and log record (method, route, status,
# scheme...): their encoded bytes are remembered, up to this many pairs.
_PAIR_CACHE_SIZE = 4096
_pairs: dict[tuple[bytes, str, type, Any], bytes] = {}


def varint(value: int) -> bytes:
    """An unsigned varint."""
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field: tag, length, payload."""
    return tag + varint(len(payload)) + payload


def string(tag: bytes, value: str) -> bytes:
    """A string field."""
    return field(tag, value.encode("utf-8"))


def any_value(value: Any) -> bytes | None:
    """The encoded ``AnyValue`` for a scalar, or None to let the stock encoder handle it."""
    if isinstance(value, str):
        return string(b"\x0a", value)
    if isinstance(value, bool):  # before int: bool is an int
        return b"\x10\x01" if value else b"\x10\x00"
    if isinstance(value, int):
        return b"\x18" + varint(value & 0xFFFFFFFFFFFFFFFF)  # int64 as two's complement
    if isinstance(value, float):
        return b"\x21" + pack_double(value)
    return None


def attributes(tag: bytes, values: Any) -> list[bytes]:
    """Each attribute as a ``KeyValue`` field under ``tag``.

    Non-scalar values (arrays, maps, bytes) go through the stock encoder, which also drops a
    value it cannot encode, as the stock exporter does.
    """
    encoded = []
    for key, value in (values or {}).items():
        # The type is part of the key: True == 1 == 1.0 must not share an encoding.
        pair = (tag, key, type(value), value)
        try:
            cached = _pairs.get(pair)
        except TypeError:  # an unhashable value (a list or dict)
            cached = None
        if cached is not None:
            encoded.append(cached)
            continue
        scalar = any_value(value)
        if scalar is None:
            stock = _encode_attributes({key: value})
            encoded.extend(field(tag, kv.SerializeToString()) for kv in stock)
            continue
        kv_field = field(tag, string(b"\x0a", key) + field(b"\x12", scalar))
        if len(_pairs) < _PAIR_CACHE_SIZE and (not isinstance(value, str) or len(value) <= 64):
            _pairs[pair] = kv_field
        encoded.append(kv_field)
    return encoded


class Encoded(NamedTuple):
    """A span or log record already encoded as its OTLP message, with what groups it."""

    resource: Resource
    instrumentation_scope: InstrumentationScope | None
    payload: bytes


class EncodingCache:
    """Encoded resources and scopes, by identity: both live as long as their provider."""

    def __init__(self) -> None:
        self._resources: dict[int, tuple[Resource, bytes]] = {}
        self._scopes: dict[int, tuple[InstrumentationScope | None, bytes]] = {}

    def resource(self, resource: Resource) -> bytes:
        """The serialised ``Resource`` message."""
        cached = self._resources.get(id(resource))
        if cached is None or cached[0] is not resource:
            cached = self._resources[id(resource)] = (
                resource,
                _encode_resource(resource).SerializeToString(),
            )
        return cached[1]

    def scope(self, scope: InstrumentationScope | None) -> bytes:
        """The serialised ``InstrumentationScope`` message (empty for None)."""
        cached = self._scopes.get(id(scope))
        if cached is None or cached[0] is not scope:
            cached = self._scopes[id(scope)] = (
                scope,
                # The stock encoder accepts None (an empty scope) despite its annotation.
                _encode_instrumentation_scope(scope).SerializeToString(),  # type: ignore[arg-type]
            )
        return cached[1]


def encode_by_resource_and_scope(
    items: Iterable[Any], encode: Callable[[Any], bytes], cache: EncodingCache
) -> bytes:
    """An OTLP export request: each item encoded, grouped by resource then scope as the SDK does.

    Traces and logs share the layout: the request repeats field 1, a Resource{Spans,Logs}
    (1 resource, 2 scope groups, 3 schema_url); a scope group is a Scope{Spans,Logs} (1 scope,
    2 items, 3 schema_url). ``items`` are spans or log records: both carry ``resource`` and
    ``instrumentation_scope``; an `Encoded` item brings its message already encoded.
    """
    grouped: dict[int, tuple[Resource, dict[int, tuple[Any, list[bytes]]]]] = {}
    for item in items:
        resource = item.resource
        scope = item.instrumentation_scope or None
        _, scopes = grouped.setdefault(id(resource), (resource, {}))
        _, encoded = scopes.setdefault(id(scope), (scope, []))
        encoded.append(item.payload if type(item) is Encoded else encode(item))
    request = []
    for resource, scopes in grouped.values():
        resource_group = [field(b"\x0a", cache.resource(resource))]
        for scope, encoded in scopes.values():
            scope_group = [field(b"\x0a", cache.scope(scope))]
            scope_group.extend(field(b"\x12", item) for item in encoded)
            if scope is not None and scope.schema_url:
                scope_group.append(string(b"\x1a", scope.schema_url))
            resource_group.append(field(b"\x12", b"".join(scope_group)))
        if resource.schema_url:
            resource_group.append(string(b"\x1a", resource.schema_url))
        request.append(field(b"\x0a", b"".join(resource_group)))
    return b"".join(request)
