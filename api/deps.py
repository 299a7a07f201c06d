"""Request dependencies as ``Annotated`` aliases: the runtime, and the principal behind the API key.

Both are ``async``: FastAPI runs a plain ``def`` dependency on a worker thread, and two thread hops
per request were a measurable part of a search's latency. The database is only asked (on a worker
thread) when the key was not verified in the last few seconds (``acl.auth``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.runtime import Runtime
from core.errors import UnauthenticatedError
from core.types import Principal

_bearer = HTTPBearer(auto_error=False, description="API key from `tessera keys create`")


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_principal(
    request: Request,
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise UnauthenticatedError("send 'Authorization: Bearer <api key>'")
    token = credentials.credentials
    principal = runtime.auth.remembered(token)
    if principal is None:
        principal = await run_in_threadpool(runtime.auth.verify, token)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
