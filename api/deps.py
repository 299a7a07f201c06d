"""Request dependencies as ``Annotated`` aliases: the runtime, and the principal behind the API key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from acl.keys import authenticate
from api.runtime import Runtime
from core.db import session_scope
from core.errors import UnauthenticatedError
from core.types import Principal

_bearer = HTTPBearer(auto_error=False, description="API key from `tessera keys create`")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_principal(
    request: Request,
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise UnauthenticatedError("send 'Authorization: Bearer <api key>'")
    with session_scope(runtime.engine) as session:
        principal = authenticate(session, credentials.credentials)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
