"""argon2id hashing: verification, rehash on changed parameters, the decoy for unknown emails."""

from __future__ import annotations

import pytest

from user_service.adapters.passwords import Argon2PasswordHasher

# Tiny parameters: these tests are about behaviour, not cost.
FAST = {"time_cost": 1, "memory_kib": 8 * 1024, "parallelism": 1, "concurrency": 2}


@pytest.fixture
def hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher(**FAST)


async def test_a_hash_is_argon2id_salted_and_verifies_only_its_password(
    hasher: Argon2PasswordHasher,
) -> None:
    first = await hasher.hash("correct horse battery staple")
    second = await hasher.hash("correct horse battery staple")
    assert first.startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    assert first != second
    assert await hasher.verify(first, "correct horse battery staple")
    assert not await hasher.verify(first, "correct horse battery stapler")


async def test_a_malformed_hash_fails_verification_instead_of_raising(
    hasher: Argon2PasswordHasher,
) -> None:
    assert not await hasher.verify("not-a-hash", "anything")
    assert hasher.needs_rehash("not-a-hash")


async def test_hashes_made_with_other_parameters_need_a_rehash(
    hasher: Argon2PasswordHasher,
) -> None:
    stored = await hasher.hash("correct horse battery staple")
    assert not hasher.needs_rehash(stored)
    stronger = Argon2PasswordHasher(**{**FAST, "time_cost": 2})
    assert stronger.needs_rehash(stored)
    # The old hash still verifies under the new parameters: they are read from the hash.
    assert await stronger.verify(stored, "correct horse battery staple")


async def test_the_decoy_verification_runs_and_never_raises(hasher: Argon2PasswordHasher) -> None:
    await hasher.verify_nothing("whatever was typed")
    await hasher.verify_nothing("")
