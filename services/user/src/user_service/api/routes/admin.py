"""/v1/admin: what only admins may do."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends

from user_service.api.deps import CallerDep, require_json
from user_service.api.json_route import JsonTextRoute
from user_service.api.problems import BODY_PROBLEMS, problem_openapi
from user_service.api.schemas import UserAccountUpdate, UserPublic
from user_service.domain.users import Role
from user_service.service_layer import users
from user_service.service_layer.users import AccountChanges

router = APIRouter(prefix="/v1/admin", tags=["admin"], route_class=JsonTextRoute)


@router.patch(
    # `:uuid`: a path naming no UUID names no user (404), as under /v1/users.
    "/users/{user_id:uuid}",
    dependencies=[Depends(require_json)],
    responses=problem_openapi(*BODY_PROBLEMS, 401, 403, 404),
)
async def update_account(
    user_id: uuid.UUID,
    body: UserAccountUpdate,
    caller: CallerDep,
) -> UserPublic:
    """Change a user's role or deactivate them (an inactive user cannot get a token)."""
    services = caller.services
    user = await users.update_account(
        uow=services.unit_of_work(),
        cache=services.cache,
        clock=services.clock,
        principal=caller.principal,
        user_id=user_id,
        changes=AccountChanges(
            role=Role(body.role) if body.role else None, is_active=body.is_active
        ),
    )
    return UserPublic.from_user(user)
