"""/v1/users: register, read, list, change and delete users."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from user_service.api.deps import CallerDep, ServicesDep, require_json
from user_service.api.json_route import JsonTextRoute
from user_service.api.problems import BODY_PROBLEMS, problem_openapi
from user_service.api.schemas import (
    CURSOR_MAX_LENGTH,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    StorableText,
    UserCreate,
    UserPage,
    UserPublic,
    UserUpdate,
)
from user_service.service_layer import users
from user_service.service_layer.pagination import CURSOR_PATTERN
from user_service.service_layer.users import ProfileChanges

router = APIRouter(prefix="/v1/users", tags=["users"], route_class=JsonTextRoute)

# `:uuid`, so that /v1/users/me is not also a /v1/users/{user_id}: PATCH or DELETE on it is a 405
# naming GET, as the OpenAPI document has it, and a path naming no UUID names no user (404).
_BY_ID = "/{user_id:uuid}"

# The registered user's id leads to what may be done with that user (OpenAPI links, which
# clients and schemathesis's stateful tests follow), by the operation ids set below.
_USER_LINKS = {
    operation: {
        "operationId": operation,
        "parameters": {"user_id": "$response.body#/id"},
        "description": "The user just registered, which that user (or an admin) may act on.",
    }
    for operation in ("read_user", "update_user", "delete_user")
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_json)],
    responses={
        201: {
            "description": "Registered.",
            "headers": {
                "Location": {
                    "description": "The new user's URL.",
                    "schema": {"type": "string", "format": "uri-reference"},
                }
            },
            "links": _USER_LINKS,
        },
        **problem_openapi(*BODY_PROBLEMS, 409),
    },
)
async def register(body: UserCreate, response: Response, services: ServicesDep) -> UserPublic:
    """Register a user (no token needed); the email must not be registered yet, in any case."""
    user = await users.register_user(
        uow=services.unit_of_work(),
        hasher=services.hasher,
        clock=services.clock,
        events=services.events,
        email=body.email,
        full_name=body.full_name,
        password=body.password.get_secret_value(),
    )
    response.headers["Location"] = f"{router.prefix}/{user.id}"
    return UserPublic.from_user(user)


@router.get("", responses=problem_openapi(401, 403, 422))
async def list_users(
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None,
        StorableText,
        Query(
            min_length=1,
            max_length=CURSOR_MAX_LENGTH,
            description="The `next_cursor` of the previous page.",
            # Checked by decode_cursor, so that a malformed one reads as any unknown cursor.
            json_schema_extra={"pattern": CURSOR_PATTERN},
        ),
    ] = None,
) -> UserPage:
    """A page of users in registration order (admins only)."""
    page = await users.list_users(
        uow=caller.services.unit_of_work(read_only=True),
        principal=caller.principal,
        cursor=cursor,
        limit=limit,
    )
    return UserPage(
        items=[UserPublic.from_user(user) for user in page.items], next_cursor=page.next_cursor
    )


@router.get("/me", responses=problem_openapi(401, 404))
async def read_me(caller: CallerDep) -> UserPublic:
    """The caller's own record."""
    services, principal = caller.services, caller.principal
    user = await users.get_user(
        uow=services.unit_of_work(read_only=True),
        cache=services.cache,
        principal=principal,
        user_id=principal.user_id,
    )
    return UserPublic.from_user(user)


@router.get(_BY_ID, operation_id="read_user", responses=problem_openapi(401, 404))
async def read_user(user_id: uuid.UUID, caller: CallerDep) -> UserPublic:
    """One user: yourself, or anyone for an admin; anyone else's id answers 404."""
    services = caller.services
    user = await users.get_user(
        uow=services.unit_of_work(read_only=True),
        cache=services.cache,
        principal=caller.principal,
        user_id=user_id,
    )
    return UserPublic.from_user(user)


@router.patch(
    _BY_ID,
    operation_id="update_user",
    dependencies=[Depends(require_json)],
    responses=problem_openapi(*BODY_PROBLEMS, 401, 403, 404, 409),
)
async def update_user(
    user_id: uuid.UUID,
    body: UserUpdate,
    caller: CallerDep,
) -> UserPublic:
    """Change your email, name or password (an admin: anyone's)."""
    services = caller.services
    user = await users.update_profile(
        uow=services.unit_of_work(),
        cache=services.cache,
        hasher=services.hasher,
        clock=services.clock,
        principal=caller.principal,
        user_id=user_id,
        changes=ProfileChanges(
            email=body.email,
            full_name=body.full_name,
            password=body.password.get_secret_value() if body.password else None,
        ),
    )
    return UserPublic.from_user(user)


@router.delete(
    _BY_ID,
    operation_id="delete_user",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_openapi(401, 403, 404),
)
async def delete_user(user_id: uuid.UUID, caller: CallerDep) -> None:
    """Delete yourself (an admin: anyone)."""
    services = caller.services
    await users.delete_user(
        uow=services.unit_of_work(),
        cache=services.cache,
        principal=caller.principal,
        user_id=user_id,
    )
