"""What a check found: the object, the field and the rule, in one line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class Finding:
    """One broken rule on one object; `str` is the line `make k8s-validate` prints."""

    obj: str
    field: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.obj}: {self.field}: {self.message} [{self.rule}]"


def object_name(obj: dict[str, Any]) -> str:
    """`Deployment/user`, the way kubectl names an object."""
    return f"{obj.get('kind', '?')}/{obj.get('metadata', {}).get('name', '?')}"
