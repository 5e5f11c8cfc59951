"""Text that every log sink can carry: the JSON lines and the OTLP log records alike."""

from __future__ import annotations

from typing import Any

__all__ = ["encodable"]


def encodable(value: Any) -> Any:
    """``value`` with every string made encodable as UTF-8 (unpaired surrogates escaped).

    Text decoded from undecodable input can hold lone surrogates, which no JSON encoder and no
    protobuf string can carry: the line is written with ``\\udcff`` in their place, not lost.
    """
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {encodable(key): encodable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encodable(item) for item in value]
    return value
