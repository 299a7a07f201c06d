"""/v1/admin: the tenant's access policy (rules, roles, CSV, history, revert, explain, dry run) and keys.

Each route is authorised by one dependency (``PolicyReaderDep``, ``ManagerDep``, ``KeyManagerDep``) and
acts on the tenant of the caller's key; the work is one call to ``PolicyAdmin`` or ``AccessReview``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from acl.admin import Actor
from acl.callers import Caller
from acl.keys import parse_roles
from acl.models import ApiKey
from acl.policy_models import PolicyChange
from acl.review import Target, TargetKind
from acl.rules import Assignment, check_name
from api.deps import KeyManagerDep, ManagerDep, PolicyReaderDep, RuntimeDep
from api.params import MAX_DB_INT, ItemLimit, ItemOffset
from api.schemas_admin import (
    AssignmentBody,
    ChangeOut,
    DryRunIn,
    DryRunOut,
    ExplainIn,
    ExplainOut,
    HistoryOut,
    KeyCreatedOut,
    KeyCreateIn,
    KeyListOut,
    KeyOut,
    PolicyChangeIn,
    PolicyListOut,
    RevertIn,
    RoleChangeIn,
    RoleListOut,
)
from core.errors import InvalidInputError, UnsupportedMediaError

router = APIRouter(prefix="/v1/admin", tags=["admin"])

NameQuery = Annotated[str | None, Query(min_length=1, max_length=200)]
HistoryLimit = Annotated[int, Query(ge=1, le=100, description="changes per page, newest first")]
BeforeVersion = Annotated[int | None, Query(ge=1, le=MAX_DB_INT, description="only versions below this")]
ImportReason = Annotated[str, Query(max_length=2000, description="why, for the history")]
KeyId = Annotated[str, Path(pattern="^[0-9a-f]{1,32}$", description="the key's id (from the key list)")]


class CsvResponse(PlainTextResponse):
    media_type = "text/csv"


def _actor(caller: Caller) -> Actor:
    return Actor(caller.principal.tenant, caller.principal.user)


def _name(value: str | None, where: str) -> str | None:
    return None if value is None else check_name(value, where)


# -- rules -------------------------------------------------------------------------------------------


@router.get("/policies", response_model=PolicyListOut)
def list_policies(
    caller: PolicyReaderDep,
    runtime: RuntimeDep,
    subject: NameQuery = None,
    limit: ItemLimit = 100,
    offset: ItemOffset = 0,
) -> PolicyListOut:
    page = runtime.admin.permissions(
        caller.principal.tenant, subject=_name(subject, "subject"), limit=limit, offset=offset
    )
    return PolicyListOut.of(page, limit, offset)


@router.post("/policies", response_model=ChangeOut)
def change_policies(body: PolicyChangeIn, caller: ManagerDep, runtime: RuntimeDep) -> ChangeOut:
    ops = body.ops(caller.principal.tenant)
    return ChangeOut.of(runtime.admin.change(_actor(caller), ops, reason=body.reason))


@router.get("/policies/export", response_class=CsvResponse)
def export_policies(caller: PolicyReaderDep, runtime: RuntimeDep) -> CsvResponse:
    """Every rule and role assignment of the tenant as casbin CSV (``p, ...`` then ``g, ...``)."""
    return CsvResponse(runtime.admin.export_csv(caller.principal.tenant))


@router.post(
    "/policies/import",
    response_model=ChangeOut,
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
async def import_policies(
    request: Request, caller: ManagerDep, runtime: RuntimeDep, reason: ImportReason = ""
) -> ChangeOut:
    """Replace every rule of the tenant by the CSV's; a bad line is a 400 naming it, and changes nothing."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("text/csv"):
        raise UnsupportedMediaError(f"send the rules as text/csv, got {content_type or 'nothing'!r}")
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"the CSV is not UTF-8 (byte {exc.start})") from None
    if "\x00" in text:
        raise InvalidInputError("the CSV holds a NUL character")
    change = await run_in_threadpool(runtime.admin.import_csv, _actor(caller), text, reason=reason)
    return ChangeOut.of(change)


@router.get("/policies/history", response_model=HistoryOut)
def policy_history(
    caller: PolicyReaderDep, runtime: RuntimeDep, limit: HistoryLimit = 20, before: BeforeVersion = None
) -> HistoryOut:
    changes = runtime.admin.history(caller.principal.tenant, limit=limit, before=before)
    return HistoryOut(changes=[ChangeOut.of(c) for c in changes], next_before=_next_before(changes, limit))


def _next_before(changes: list[PolicyChange], limit: int) -> int | None:
    if len(changes) < limit or changes[-1].version <= 1:
        return None
    return changes[-1].version


@router.post("/policies/revert", response_model=ChangeOut)
def revert_policies(body: RevertIn, caller: ManagerDep, runtime: RuntimeDep) -> ChangeOut:
    """Undo every change after ``version``, as one new version (the history keeps both)."""
    return ChangeOut.of(runtime.admin.revert(_actor(caller), body.version, reason=body.reason))


@router.post("/policies/dry-run", response_model=DryRunOut)
def dry_run(body: DryRunIn, caller: PolicyReaderDep, runtime: RuntimeDep) -> DryRunOut:
    """Who would gain or lose read access to which documents; nothing is changed."""
    run = runtime.review.dry_run(
        caller.principal.tenant, body.ops(caller.principal.tenant), limit=body.limit, examples=body.examples
    )
    return DryRunOut.of(run)


# -- roles -------------------------------------------------------------------------------------------


@router.get("/roles", response_model=RoleListOut)
def list_roles(
    caller: PolicyReaderDep,
    runtime: RuntimeDep,
    member: NameQuery = None,
    role: NameQuery = None,
    limit: ItemLimit = 100,
    offset: ItemOffset = 0,
) -> RoleListOut:
    tenant = caller.principal.tenant
    page = runtime.admin.assignments(
        tenant, member=_name(member, "member"), role=_name(role, "role"), limit=limit, offset=offset
    )
    return RoleListOut(
        policy_version=page.version,
        total=page.total,
        limit=limit,
        offset=offset,
        assignments=[AssignmentBody.of(r) for r in page.rules if isinstance(r, Assignment)],
        roles=runtime.admin.role_names(tenant),
    )


@router.post("/roles", response_model=ChangeOut)
def change_roles(body: RoleChangeIn, caller: ManagerDep, runtime: RuntimeDep) -> ChangeOut:
    ops = body.ops(caller.principal.tenant)
    return ChangeOut.of(runtime.admin.change(_actor(caller), ops, reason=body.reason, kind="roles"))


# -- explain -----------------------------------------------------------------------------------------


@router.post("/explain", response_model=ExplainOut)
def explain(body: ExplainIn, caller: PolicyReaderDep, runtime: RuntimeDep) -> ExplainOut:
    """Why ``user`` may or may not act on a label, a document (its current version's labels) or a chunk."""
    if body.doc_id is not None:
        target = Target(TargetKind.DOCUMENT, body.doc_id)
    elif body.chunk_id is not None:
        target = Target(TargetKind.CHUNK, body.chunk_id)
    else:
        target = Target(TargetKind.LABEL, body.label or "")
    user = check_name(body.user, "user")
    return ExplainOut.of(runtime.review.explain(caller.principal.tenant, user, target, body.action))


# -- keys --------------------------------------------------------------------------------------------


def _key(row: ApiKey) -> KeyOut:
    return KeyOut(
        key_id=row.id,
        user=row.user,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


@router.get("/keys", response_model=KeyListOut)
def list_keys(caller: KeyManagerDep, runtime: RuntimeDep) -> KeyListOut:
    """The tenant's keys: ids, users, dates; never a secret."""
    return KeyListOut(keys=[_key(row) for row in runtime.admin.list_keys(caller.principal.tenant)])


@router.post("/keys", response_model=KeyCreatedOut, status_code=201)
def create_key(body: KeyCreateIn, caller: KeyManagerDep, runtime: RuntimeDep) -> KeyCreatedOut:
    """A key for ``user``; the token is in this answer only."""
    issued = runtime.admin.issue_key(
        _actor(caller), body.user, roles=parse_roles(body.roles), expires_at=body.expires_at
    )
    return KeyCreatedOut(
        key_id=issued.key_id, token=issued.token, user=issued.user, expires_at=issued.expires_at
    )


@router.delete("/keys/{key_id}", response_model=KeyOut)
def revoke_key(key_id: KeyId, caller: KeyManagerDep, runtime: RuntimeDep) -> KeyOut:
    """Every API process refuses the key from its next request on."""
    return _key(runtime.admin.revoke_key(_actor(caller), key_id))
