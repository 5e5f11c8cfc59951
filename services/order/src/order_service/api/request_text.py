"""Every string field of a request, held to the domain's text rule (`domain.text`).

A NUL passes the protobuf parser and would reach PostgreSQL; a byte that is not UTF-8 makes the
parser refuse the whole message without saying where. So a parsed request is checked field by
field, and a request the parser refuses is read again as its *bytes twin* (the same messages
with every string field declared ``bytes``, which reads the same wire format) to name the field
holding the bad byte. Violations are named as `OrderRequest.validate` names them:
``lines[2].product_id``. (order.v1 requests hold no map fields, which this walk does not enter.)
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import FieldDescriptor

from order_service.domain.errors import FieldViolation
from order_service.domain.text import text_problem

if TYPE_CHECKING:
    from google.protobuf.descriptor import FileDescriptor
    from google.protobuf.message import Message

__all__ = ["text_violations", "undecodable_text_violations"]


def text_violations(message: Message) -> list[FieldViolation]:
    """A violation for every string field of ``message`` that PostgreSQL could not store."""
    return _walk(message, message.DESCRIPTOR, "")


def undecodable_text_violations(message_class: type[Message], raw: bytes) -> list[FieldViolation]:
    """The string fields holding bytes that are not UTF-8, for a ``raw`` the parser refused.

    Empty when the message is malformed in some other way (the twin refuses it too).
    """
    twin = _bytes_twin(message_class.DESCRIPTOR.full_name, message_class.DESCRIPTOR.file)
    try:
        parsed = twin.FromString(raw)
    except Exception:  # any parse error: malformed otherwise, not a text problem to name
        return []
    return _walk(parsed, message_class.DESCRIPTOR, "")


def _walk(message: Message, original: Any, prefix: str) -> list[FieldViolation]:
    # `original` is the declared message type's descriptor (protobuf's stubs type it as a union
    # of its two implementations): in a bytes twin, it says which fields are text.
    violations: list[FieldViolation] = []
    for field, value in message.ListFields():
        declared = original.fields_by_number[field.number]
        values = list(value) if field.is_repeated else [value]
        for index, item in enumerate(values):
            path = f"{prefix}{field.name}[{index}]" if field.is_repeated else prefix + field.name
            if declared.type == FieldDescriptor.TYPE_MESSAGE:
                violations += _walk(item, declared.message_type, f"{path}.")
            elif declared.type == FieldDescriptor.TYPE_STRING:
                text = item if isinstance(item, str) else item.decode("utf-8", "surrogateescape")
                problem = text_problem(text)
                if problem is not None:
                    violations.append(FieldViolation(path, problem))
    return violations


@functools.cache
def _bytes_twin(full_name: str, file: FileDescriptor) -> type[Message]:
    """The message class ``full_name`` with every string field of its file declared bytes."""
    pool = descriptor_pool.DescriptorPool()
    for dependency in file.dependencies:
        _add_as_is(pool, dependency)
    proto = descriptor_pb2.FileDescriptorProto()
    file.CopyToProto(proto)
    pending = list(proto.message_type)
    while pending:
        message = pending.pop()
        pending.extend(message.nested_type)
        for field in message.field:
            if field.type == descriptor_pb2.FieldDescriptorProto.TYPE_STRING:
                field.type = descriptor_pb2.FieldDescriptorProto.TYPE_BYTES
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))


def _add_as_is(pool: descriptor_pool.DescriptorPool, file: FileDescriptor) -> None:
    for dependency in file.dependencies:
        _add_as_is(pool, dependency)
    proto = descriptor_pb2.FileDescriptorProto()
    file.CopyToProto(proto)
    pool.Add(proto)
