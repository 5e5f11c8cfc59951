"""Check a YAML config against an allow-list of the keys its pinned version accepts.

Loki and Tempo are never run here (AGPL, and no Docker engine), so nothing would notice a typo
or a key a new release dropped in their compose configs. Each config gets a keys file beside it
(``loki.keys.yaml`` next to ``loki.yaml``) transcribed from the project's reference docs of the
pinned version, in this small grammar:

- ``bool``, ``int``, ``float``, ``str``, ``port``, ``duration`` (``48h``, ``1m30s``, ``0``),
  ``date`` (``2024-01-01``) and ``size`` (``50`` or ``64KB``): a scalar of that kind;
- ``{enum: [a, b]}``: one of these values;
- ``{map: <type>}``: a mapping with keys of the user's choosing and values of that type;
- ``[<type>]``: a list of that type;
- any other mapping: exactly these keys (``{}`` is a block of the version whose keys are not
  transcribed yet: using any of them means adding it first).

``required`` maps a path (``limits_config.allow_structured_metadata``,
``schema_config.configs[-1].store``) to the value the stack depends on, or to
``{contains: value}`` for a list that must hold it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["KeysFile", "load_keys_file", "required_violations", "schema_violations", "value_at"]

_DURATION = re.compile(r"0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h|d|w|y))+")
_SIZE = re.compile(r"[0-9]+(\.[0-9]+)?\s*([KMGTPE]i?B|B)?", re.IGNORECASE)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(-?[0-9]+)\]")


@dataclass(frozen=True)
class KeysFile:
    """An allow-list: the version it was read from, where from, the schema, the required values."""

    version: str
    source: str
    schema: dict[str, Any]
    required: dict[str, Any]


def load_keys_file(path: Path) -> KeysFile:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return KeysFile(
        version=str(loaded["version"]),
        source=str(loaded["source"]),
        schema=loaded["schema"],
        required=loaded.get("required") or {},
    )


def schema_violations(document: Any, schema: Any, path: str = "") -> Iterator[str]:
    """Every place where ``document`` leaves the allow-list: unknown key, wrong type or value."""
    where = path or "<top>"
    if isinstance(schema, list):
        yield from _list_violations(document, schema[0], path)
    elif isinstance(schema, dict) and "enum" in schema:
        if document not in schema["enum"]:
            yield f"{where}: {document!r} is not one of {schema['enum']}"
    elif isinstance(schema, dict):
        yield from _mapping_violations(document, schema, path)
    elif not _is_scalar(document, str(schema)):
        yield f"{where}: expected {schema}, got {document!r}"


def _list_violations(document: Any, item_schema: Any, path: str) -> Iterator[str]:
    if not isinstance(document, list):
        yield f"{path}: expected a list, got {type(document).__name__}"
        return
    for index, item in enumerate(document):
        yield from schema_violations(item, item_schema, f"{path}[{index}]")


def _mapping_violations(document: Any, schema: dict[str, Any], path: str) -> Iterator[str]:
    if not isinstance(document, dict):
        yield f"{path or '<top>'}: expected a mapping, got {type(document).__name__}"
        return
    for key, value in document.items():
        here = f"{path}.{key}" if path else str(key)
        if "map" in schema:
            yield from schema_violations(value, schema["map"], here)
        elif key not in schema:
            yield f"{here}: unknown key (not in the allow-list of this version)"
        else:
            yield from schema_violations(value, schema[key], here)


def required_violations(document: Any, required: Mapping[str, Any]) -> Iterator[str]:
    """Every required setting that is missing or has another value."""
    for path, wanted in required.items():
        try:
            actual = value_at(document, path)
        except (KeyError, IndexError, TypeError):
            yield f"{path}: missing (required: {wanted!r})"
            continue
        if isinstance(wanted, dict) and "contains" in wanted:
            if not isinstance(actual, list) or wanted["contains"] not in actual:
                yield f"{path}: {actual!r} must contain {wanted['contains']!r}"
        elif actual != wanted:
            yield f"{path}: {actual!r}, required {wanted!r}"


def value_at(document: Any, path: str) -> Any:
    """The value at ``a.b[0].c``; raises KeyError, IndexError or TypeError when it is absent."""
    node = document
    for name, index in _PATH_PART.findall(path):
        node = node[int(index)] if index else node[name]
    return node


def _is_scalar(value: Any, kind: str) -> bool:
    checks: dict[str, Callable[[], bool]] = {
        "bool": lambda: isinstance(value, bool),
        "int": lambda: _is_integer(value),
        "float": lambda: _is_number(value),
        "str": lambda: isinstance(value, str),
        "port": lambda: _is_integer(value) and 0 < value < 65536,
        "duration": lambda: value == 0 or _matches(_DURATION, value),
        "date": lambda: isinstance(value, datetime.date) or _matches(_DATE, value),
        "size": lambda: _is_number(value) or _matches(_SIZE, value),
    }
    if kind not in checks:
        raise ValueError(f"unknown type {kind!r} in a keys file")
    return checks[kind]()


def _is_number(value: Any) -> bool:
    # bool is an int in Python; YAML's true is no number.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    return _is_number(value) and float(value).is_integer()


def _matches(pattern: re.Pattern[str], value: Any) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None
