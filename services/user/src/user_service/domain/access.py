"""Who is calling, and what they may touch."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from user_service.domain.users import Role


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, as the access token names them."""

    user_id: uuid.UUID
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def may_access(self, user_id: uuid.UUID) -> bool:
        """A user may read, change and delete only themself; an admin may do all."""
        return self.is_admin or self.user_id == user_id
