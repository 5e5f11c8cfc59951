"""What can go wrong, named once; the edge translates each to its wire form in one place."""

from __future__ import annotations

import uuid


class DomainError(Exception):
    """Base of every error the service's callers may see."""


class InvalidItemError(DomainError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field
        self.problem = problem


class ItemNotFoundError(DomainError):
    def __init__(self, item_id: uuid.UUID | str) -> None:
        super().__init__(f"no item with id {item_id}")
        self.item_id = str(item_id)
