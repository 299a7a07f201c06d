"""Request dependencies as ``Annotated`` aliases: the runtime, and the caller behind the API key.

``CallerDep`` authenticates the key and takes the tenant policy's decision in one worker-thread hop
(both may touch the database). Routes that need a permission beyond reading what the decision lets
them see declare it with ``requires(object, action)`` — the one place a route is authorised.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from acl.callers import Caller
from acl.filters import check_writer
from acl.rules import Action
from api.runtime import Runtime
from core.errors import UnauthenticatedError

_bearer = HTTPBearer(auto_error=False, description="API key from `tessera keys create`")


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_caller(
    request: Request,
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise UnauthenticatedError("send 'Authorization: Bearer <api key>'")
    caller = await run_in_threadpool(runtime.callers.resolve, credentials.credentials)
    request.state.principal = caller.principal
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def requires(obj: str, action: Action, *more: Action) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency that lets the request through only if the policy grants ``action`` (or one of
    ``more``) on ``obj``."""

    async def check(caller: CallerDep) -> Caller:
        if not any(caller.decision.can(obj, a) for a in more):
            caller.require(obj, action)
        return caller

    return check


async def require_writer(caller: CallerDep) -> Caller:
    """Writing documents (ingest, delete) needs ``write`` on at least one label, checked before the
    body is read or anything is looked up; each document's own labels are checked where they are known."""
    check_writer(caller.write, "writing documents")
    return caller


WriterDep = Annotated[Caller, Depends(require_writer)]
ManagerDep = Annotated[Caller, Depends(requires("admin:policies", Action.MANAGE))]
# Reading the policy (listings, export, history, explain, dry runs): read, or manage, on it.
PolicyReaderDep = Annotated[Caller, Depends(requires("admin:policies", Action.READ, Action.MANAGE))]
KeyManagerDep = Annotated[Caller, Depends(requires("admin:keys", Action.MANAGE))]
