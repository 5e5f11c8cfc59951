"""The baseline of the user service benchmark: a bare FastAPI route returning the same JSON from
memory — no middleware, no auth, no cache, no database. Served with the same uvicorn options."""

from __future__ import annotations

import json
import os
from typing import Any

from fastapi import FastAPI

app = FastAPI()
_BODY: dict[str, Any] = json.loads(os.environ.get("BENCH_BODY", "{}"))


@app.get("/bare/users/{user_id}")
async def read_user(user_id: str) -> dict[str, Any]:
    return _BODY
