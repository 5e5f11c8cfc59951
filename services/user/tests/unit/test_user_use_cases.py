"""The service layer over faked ports: who may do what, and what each use case leaves behind."""

from __future__ import annotations

import uuid

import pytest

from user_service.domain.access import Principal
from user_service.domain.errors import (
    AccountDeactivatedError,
    EmailTakenError,
    ForbiddenError,
    InvalidCredentialsError,
    PasswordPolicyError,
    RateLimitedError,
    UserNotFoundError,
)
from user_service.domain.users import Role, User
from user_service.service_layer import auth, users
from user_service.service_layer.ports import AccessToken
from user_service.service_layer.users import AccountChanges, ProfileChanges
from user_service.testing import World

PASSWORD = "correct horse battery staple"


class RecordingIssuer:
    def __init__(self) -> None:
        self.issued_for: list[uuid.UUID] = []

    def issue(self, user: User) -> AccessToken:
        self.issued_for.append(user.id)
        return AccessToken(token=f"token-for-{user.id}", expires_in_seconds=900)


async def register(world: World, email: str = "ada@example.com", role: Role = Role.USER) -> User:
    return await users.register_user(
        uow=world.uow,
        hasher=world.hasher,
        clock=world.clock,
        events=world.events,
        email=email,
        full_name="Ada Lovelace",
        password=PASSWORD,
        role=role,
    )


async def login(
    world: World, email: str, password: str, issuer: RecordingIssuer | None = None
) -> AccessToken:
    return await auth.issue_token(
        uow=world.uow,
        hasher=world.hasher,
        issuer=issuer or RecordingIssuer(),
        throttle=world.throttle,
        events=world.events,
        email=email,
        password=password,
        client="127.0.0.1",
    )


def principal_of(user: User) -> Principal:
    return Principal(user_id=user.id, role=user.role)


# Registration ---------------------------------------------------------------------------------


async def test_registering_stores_a_hash_not_the_password_and_counts_the_event(
    world: World,
) -> None:
    user = await register(world)
    stored_user, stored_hash = world.uow.committed.rows[user.id]
    assert stored_user == user
    assert PASSWORD not in stored_hash
    assert await world.hasher.verify(stored_hash, PASSWORD)
    assert world.events.registered == [user.id]


async def test_an_email_is_taken_whatever_its_case(world: World) -> None:
    await register(world, "ada@example.com")
    with pytest.raises(EmailTakenError):
        await register(world, "ADA@example.com")
    assert len(world.uow.committed.rows) == 1


async def test_a_weak_password_is_refused_before_anything_is_stored(world: World) -> None:
    with pytest.raises(PasswordPolicyError):
        await users.register_user(
            uow=world.uow,
            hasher=world.hasher,
            clock=world.clock,
            events=world.events,
            email="ada@example.com",
            full_name="Ada",
            password="short",
        )
    assert world.uow.committed.rows == {}
    assert world.events.registered == []


# Reading ----------------------------------------------------------------------------------------


async def test_reading_yourself_goes_through_the_cache(world: World) -> None:
    user = await register(world)
    for _ in range(3):
        got = await users.get_user(
            uow=world.uow, cache=world.cache, principal=principal_of(user), user_id=user.id
        )
        assert got == user
    assert world.cache.loads == 1


async def test_another_users_record_reads_exactly_like_a_missing_one(world: World) -> None:
    ada = await register(world, "ada@example.com")
    bob = await register(world, "bob@example.com")
    with pytest.raises(UserNotFoundError) as someone_else:
        await users.get_user(
            uow=world.uow, cache=world.cache, principal=principal_of(bob), user_id=ada.id
        )
    with pytest.raises(UserNotFoundError) as nobody:
        await users.get_user(
            uow=world.uow, cache=world.cache, principal=principal_of(bob), user_id=uuid.uuid4()
        )
    assert str(someone_else.value) == str(nobody.value)
    # Refused before any lookup: a timing difference cannot tell the two apart either.
    assert world.cache.loads == 0


async def test_an_admin_reads_anyone(world: World) -> None:
    ada = await register(world, "ada@example.com")
    admin = await register(world, "root@example.com", role=Role.ADMIN)
    got = await users.get_user(
        uow=world.uow, cache=world.cache, principal=principal_of(admin), user_id=ada.id
    )
    assert got == ada


async def test_listing_is_for_admins_and_pages_through_everyone_once(world: World) -> None:
    admin = await register(world, "root@example.com", role=Role.ADMIN)
    registered = [admin] + [await register(world, f"user{n}@example.com") for n in range(6)]
    with pytest.raises(ForbiddenError):
        await users.list_users(
            uow=world.uow, principal=principal_of(registered[1]), cursor=None, limit=5
        )
    seen: list[User] = []
    cursor = None
    for _ in range(10):
        page = await users.list_users(
            uow=world.uow, principal=principal_of(admin), cursor=cursor, limit=3
        )
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    ids = [user.id for user in seen]
    # Each user exactly once, in id order (= creation order, to the millisecond).
    assert ids == sorted(ids)
    assert sorted(ids) == sorted(user.id for user in registered)


# Changing -------------------------------------------------------------------------------------


async def test_changing_your_password_lets_you_log_in_with_the_new_one_only(world: World) -> None:
    user = await register(world)
    new_password = "a brand new passphrase"
    await users.update_profile(
        uow=world.uow,
        cache=world.cache,
        hasher=world.hasher,
        clock=world.clock,
        principal=principal_of(user),
        user_id=user.id,
        changes=ProfileChanges(password=new_password),
    )
    assert (await login(world, user.email, new_password)).token
    with pytest.raises(InvalidCredentialsError):
        await login(world, user.email, PASSWORD)


async def test_a_change_invalidates_the_cached_user(world: World) -> None:
    user = await register(world)
    await users.get_user(
        uow=world.uow, cache=world.cache, principal=principal_of(user), user_id=user.id
    )
    world.clock.advance(60)
    changed = await users.update_profile(
        uow=world.uow,
        cache=world.cache,
        hasher=world.hasher,
        clock=world.clock,
        principal=principal_of(user),
        user_id=user.id,
        changes=ProfileChanges(full_name="Countess of Lovelace"),
    )
    assert world.cache.invalidated == [user.id]
    got = await users.get_user(
        uow=world.uow, cache=world.cache, principal=principal_of(user), user_id=user.id
    )
    assert got == changed
    assert got.full_name == "Countess of Lovelace"
    assert got.updated_at > got.created_at


async def test_nobody_changes_or_deletes_another_users_record(world: World) -> None:
    ada = await register(world, "ada@example.com")
    bob = await register(world, "bob@example.com")
    with pytest.raises(UserNotFoundError):
        await users.update_profile(
            uow=world.uow,
            cache=world.cache,
            hasher=world.hasher,
            clock=world.clock,
            principal=principal_of(bob),
            user_id=ada.id,
            changes=ProfileChanges(full_name="Mallory"),
        )
    with pytest.raises(UserNotFoundError):
        await users.delete_user(
            uow=world.uow, cache=world.cache, principal=principal_of(bob), user_id=ada.id
        )
    assert world.uow.committed.rows[ada.id][0] == ada


async def test_taking_someone_elses_email_is_a_conflict(world: World) -> None:
    await register(world, "ada@example.com")
    bob = await register(world, "bob@example.com")
    with pytest.raises(EmailTakenError):
        await users.update_profile(
            uow=world.uow,
            cache=world.cache,
            hasher=world.hasher,
            clock=world.clock,
            principal=principal_of(bob),
            user_id=bob.id,
            changes=ProfileChanges(email="Ada@Example.com"),
        )


async def test_only_an_admin_changes_roles_and_deactivates(world: World) -> None:
    ada = await register(world, "ada@example.com")
    admin = await register(world, "root@example.com", role=Role.ADMIN)
    with pytest.raises(ForbiddenError):
        await users.update_account(
            uow=world.uow,
            cache=world.cache,
            clock=world.clock,
            principal=principal_of(ada),
            user_id=ada.id,
            changes=AccountChanges(role=Role.ADMIN),
        )
    updated = await users.update_account(
        uow=world.uow,
        cache=world.cache,
        clock=world.clock,
        principal=principal_of(admin),
        user_id=ada.id,
        changes=AccountChanges(is_active=False),
    )
    assert not updated.is_active
    assert updated.role is Role.USER
    assert world.cache.invalidated == [ada.id]


async def test_deleting_yourself_removes_the_row_and_the_cache_entry(world: World) -> None:
    user = await register(world)
    await users.get_user(
        uow=world.uow, cache=world.cache, principal=principal_of(user), user_id=user.id
    )
    await users.delete_user(
        uow=world.uow, cache=world.cache, principal=principal_of(user), user_id=user.id
    )
    assert user.id not in world.uow.committed.rows
    with pytest.raises(UserNotFoundError):
        await users.get_user(
            uow=world.uow, cache=world.cache, principal=principal_of(user), user_id=user.id
        )


async def test_a_deactivated_account_reads_itself_but_changes_nothing(world: World) -> None:
    ada = await register(world, "ada@example.com")
    admin = await register(world, "root@example.com", role=Role.ADMIN)
    for user in (ada, admin):
        await users.update_account(
            uow=world.uow,
            cache=world.cache,
            clock=world.clock,
            principal=principal_of(admin),
            user_id=user.id,
            changes=AccountChanges(is_active=False),
        )
    # Their tokens have not expired: they still read their record, which says so.
    read = await users.get_user(
        uow=world.uow, cache=world.cache, principal=principal_of(ada), user_id=ada.id
    )
    assert not read.is_active
    with pytest.raises(AccountDeactivatedError):
        await users.update_profile(
            uow=world.uow,
            cache=world.cache,
            hasher=world.hasher,
            clock=world.clock,
            principal=principal_of(ada),
            user_id=ada.id,
            changes=ProfileChanges(password="a brand new passphrase"),
        )
    with pytest.raises(AccountDeactivatedError):
        await users.delete_user(
            uow=world.uow, cache=world.cache, principal=principal_of(ada), user_id=ada.id
        )
    with pytest.raises(AccountDeactivatedError):
        await users.update_account(
            uow=world.uow,
            cache=world.cache,
            clock=world.clock,
            principal=principal_of(admin),
            user_id=admin.id,
            changes=AccountChanges(is_active=True),
        )
    assert world.uow.committed.rows[ada.id][0] == read
    assert not world.uow.committed.rows[admin.id][0].is_active


# Tokens ---------------------------------------------------------------------------------------


async def test_the_right_password_gets_a_token_for_that_user(world: World) -> None:
    user = await register(world)
    issuer = RecordingIssuer()
    token = await login(world, "ADA@example.com", PASSWORD, issuer)
    assert token.token == f"token-for-{user.id}"
    assert issuer.issued_for == [user.id]
    assert world.events.logins == ["success"]


async def test_a_password_nfkc_lengthens_past_the_limit_still_logs_in(world: World) -> None:
    # 128 characters as typed (the limit), 374 once normalised: accepted, so it must log in.
    password = "abcde" + "¼" * 123
    user = await users.register_user(
        uow=world.uow,
        hasher=world.hasher,
        clock=world.clock,
        events=world.events,
        email="ada@example.com",
        full_name="Ada Lovelace",
        password=password,
    )
    issuer = RecordingIssuer()
    await login(world, "ada@example.com", password, issuer)
    assert issuer.issued_for == [user.id]
    with pytest.raises(InvalidCredentialsError):
        await login(world, "ada@example.com", password + "¼")


async def test_wrong_password_and_unknown_email_fail_alike_and_cost_a_verification(
    world: World,
) -> None:
    await register(world)
    with pytest.raises(InvalidCredentialsError) as wrong_password:
        await login(world, "ada@example.com", "not the password at all")
    with pytest.raises(InvalidCredentialsError) as unknown_email:
        await login(world, "nobody@example.com", PASSWORD)
    assert str(wrong_password.value) == str(unknown_email.value)
    assert (world.hasher.verifications, world.hasher.decoy_verifications) == (1, 1)
    assert world.events.logins == ["invalid_credentials", "invalid_credentials"]


async def test_an_inactive_user_gets_no_token(world: World) -> None:
    user = await register(world)
    admin = await register(world, "root@example.com", role=Role.ADMIN)
    await users.update_account(
        uow=world.uow,
        cache=world.cache,
        clock=world.clock,
        principal=principal_of(admin),
        user_id=user.id,
        changes=AccountChanges(is_active=False),
    )
    with pytest.raises(InvalidCredentialsError):
        await login(world, user.email, PASSWORD)


async def test_a_hash_with_old_parameters_is_upgraded_at_login(world: World) -> None:
    user = await register(world)
    world.hasher.version = 2
    await login(world, user.email, PASSWORD)
    _, stored_hash = world.uow.committed.rows[user.id]
    assert stored_hash.startswith("v2$")
    assert await world.hasher.verify(stored_hash, PASSWORD)


async def test_throttled_attempts_are_refused_before_the_password_is_checked(world: World) -> None:
    await register(world)
    world.throttle.limit = 2
    for _ in range(2):
        await login(world, "ada@example.com", PASSWORD)
    with pytest.raises(RateLimitedError) as refused:
        await login(world, "ada@example.com", PASSWORD)
    assert refused.value.retry_after_seconds == 42
    assert world.hasher.verifications == 2
    assert world.events.logins == ["success", "success", "rate_limited"]
