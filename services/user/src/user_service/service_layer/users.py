"""Use cases on users: register, read, list, change and delete."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from user_service.domain.access import Principal
from user_service.domain.errors import (
    AccountDeactivatedError,
    ForbiddenError,
    UserNotFoundError,
)
from user_service.domain.passwords import check_password_policy, normalise_password
from user_service.domain.users import Role, User
from user_service.service_layer.pagination import Page, decode_cursor, encode_cursor
from user_service.service_layer.ports import (
    Clock,
    PasswordHasher,
    UnitOfWork,
    UserCache,
    UserEvents,
)

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """What a user may change about themself; None leaves a field as it is."""

    email: str | None = None
    full_name: str | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """What only an admin may change."""

    role: Role | None = None
    is_active: bool | None = None


def _refuse_deactivated_self(principal: Principal, user: User) -> None:
    """A deactivated account changes nothing about itself, though its token has not expired."""
    if user.id == principal.user_id and not user.is_active:
        raise AccountDeactivatedError


async def register_user(
    *,
    uow: UnitOfWork,
    hasher: PasswordHasher,
    clock: Clock,
    events: UserEvents,
    email: str,
    full_name: str,
    password: str,
    role: Role = Role.USER,
) -> User:
    """Create a user with a hashed password; refuse a taken email or a weak password."""
    check_password_policy(password, email=email)
    password_hash = await hasher.hash(normalise_password(password))
    user = User.register(email=email, full_name=full_name, now=clock(), role=role)
    async with uow:
        await uow.users.add(user, password_hash=password_hash)
        await uow.commit()
    events.user_registered(user)
    _log.info("user registered", extra={"user.id": str(user.id), "user.role": user.role.value})
    return user


async def get_user(
    *, uow: UnitOfWork, cache: UserCache, principal: Principal, user_id: uuid.UUID
) -> User:
    """One user, through the cache; someone else's record reads as not found."""
    if not principal.may_access(user_id):
        raise UserNotFoundError

    async def load() -> User | None:
        async with uow:
            return await uow.users.get(user_id)

    user = await cache.get_or_load(user_id, load)
    if user is None:
        raise UserNotFoundError
    return user


async def list_users(
    *, uow: UnitOfWork, principal: Principal, cursor: str | None, limit: int
) -> Page[User]:
    """A page of users in creation order (admins only), with the cursor of the next page."""
    if not principal.is_admin:
        raise ForbiddenError
    after = decode_cursor(cursor) if cursor is not None else None
    async with uow:
        # One extra row tells whether a next page exists without a COUNT.
        users = await uow.users.list_after(after=after, limit=limit + 1)
    items = users[:limit]
    next_cursor = encode_cursor(items[-1].id) if len(users) > limit else None
    return Page(items=items, next_cursor=next_cursor)


async def update_profile(
    *,
    uow: UnitOfWork,
    cache: UserCache,
    hasher: PasswordHasher,
    clock: Clock,
    principal: Principal,
    user_id: uuid.UUID,
    changes: ProfileChanges,
) -> User:
    """Change a user's email, name or password; someone else's record reads as not found."""
    if not principal.may_access(user_id):
        raise UserNotFoundError
    password_hash = None
    async with uow:
        user = await uow.users.get(user_id)
        if user is None:
            raise UserNotFoundError
        _refuse_deactivated_self(principal, user)
        if changes.password is not None:
            check_password_policy(changes.password, email=changes.email or user.email)
            password_hash = await hasher.hash(normalise_password(changes.password))
        updated = user.changed(now=clock(), email=changes.email, full_name=changes.full_name)
        await uow.users.update(updated)
        if password_hash is not None:
            await uow.users.set_password_hash(user_id, password_hash)
        await uow.commit()
    await cache.invalidate(user_id)
    _log.info(
        "user updated",
        extra={"user.id": str(user_id), "password.changed": password_hash is not None},
    )
    return updated


async def update_account(
    *,
    uow: UnitOfWork,
    cache: UserCache,
    clock: Clock,
    principal: Principal,
    user_id: uuid.UUID,
    changes: AccountChanges,
) -> User:
    """Change a user's role or active flag (admins only)."""
    if not principal.is_admin:
        raise ForbiddenError
    async with uow:
        user = await uow.users.get(user_id)
        if user is None:
            raise UserNotFoundError
        # A deactivated admin's unexpired token must not reactivate its own account.
        _refuse_deactivated_self(principal, user)
        updated = user.changed(now=clock(), role=changes.role, is_active=changes.is_active)
        await uow.users.update(updated)
        await uow.commit()
    await cache.invalidate(user_id)
    _log.info(
        "account updated",
        extra={
            "user.id": str(user_id),
            "user.role": updated.role.value,
            "user.active": updated.is_active,
            "admin.id": str(principal.user_id),
        },
    )
    return updated


async def delete_user(
    *, uow: UnitOfWork, cache: UserCache, principal: Principal, user_id: uuid.UUID
) -> None:
    """Delete a user; someone else's record reads as not found."""
    if not principal.may_access(user_id):
        raise UserNotFoundError
    async with uow:
        if principal.user_id == user_id:
            user = await uow.users.get(user_id)
            if user is None:
                raise UserNotFoundError
            _refuse_deactivated_self(principal, user)
        if not await uow.users.delete(user_id):
            raise UserNotFoundError
        await uow.commit()
    await cache.invalidate(user_id)
    _log.info("user deleted", extra={"user.id": str(user_id)})
