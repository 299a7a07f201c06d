"""Request and response bodies of the admin API (``/v1/admin``): rules, roles, history, explain, keys.

Request bodies forbid unknown fields: an admin who misspells ``effect`` must hear about it rather
than get the default (allow). Names are checked again by ``acl.rules`` with the line or item they
came from; the bounds here keep generated junk away from the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from acl.admin import RulePage
from acl.graph import Match
from acl.policies import Op, RuleOp, ops_from_json
from acl.policy_models import PolicyChange
from acl.review import Answer, DryRun, Impact, match_text
from acl.rules import Action, Assignment, Effect, Permission, Rule, parse_rule
from api.params import MAX_DB_INT
from api.schemas import UtcDatetime
from core.types import TenantId

MAX_CHANGE_ITEMS = 10_000  # per list; an import takes more
MAX_SHOWN_OPS = 1000  # per side of one history entry


def _storable(value: str) -> str:
    # Neither database stores a NUL, and no encoder a lone surrogate: refuse them here, as input.
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"contains a lone surrogate at position {exc.start}") from None
    return value


Name = Annotated[
    str, Field(min_length=1, max_length=200, description="a user or role"), AfterValidator(_storable)
]
ObjectName = Annotated[
    str,
    Field(min_length=1, max_length=63, description="a label, tool:<name>, audit, admin:<area>, or *"),
    AfterValidator(_storable),
]
Reason = Annotated[
    str, Field(default="", max_length=2000, description="why, for the history"), AfterValidator(_storable)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PermissionBody(_Strict):
    """``p, subject, <tenant>, object, action, effect``: the tenant is always the caller's."""

    subject: Name
    object: ObjectName
    action: Action
    effect: Effect = Effect.ALLOW

    def rule(self, tenant: TenantId, where: str) -> Rule:
        fields = ("p", self.subject, tenant, self.object, self.action.value, self.effect.value)
        return parse_rule(fields, tenant, where=where)

    @classmethod
    def of(cls, rule: Permission) -> PermissionBody:
        return cls(subject=rule.subject, object=rule.obj, action=rule.action, effect=rule.effect)


class AssignmentBody(_Strict):
    """``g, member, role, <tenant>``: the member (a user or a role) inherits what the role may do."""

    member: Name
    role: Name

    def rule(self, tenant: TenantId, where: str) -> Rule:
        return parse_rule(("g", self.member, self.role, tenant), tenant, where=where)

    @classmethod
    def of(cls, rule: Assignment) -> AssignmentBody:
        return cls(member=rule.member, role=rule.role)


_Body = PermissionBody | AssignmentBody


def _ops(tenant: TenantId, add: Sequence[_Body], remove: Sequence[_Body], prefix: str = "") -> list[RuleOp]:
    """Removals first, then additions: a rule both removed and added is replaced, not refused."""
    ops = [RuleOp(Op.REMOVE, r.rule(tenant, f"{prefix}remove[{i}]")) for i, r in enumerate(remove)]
    ops += [RuleOp(Op.ADD, r.rule(tenant, f"{prefix}add[{i}]")) for i, r in enumerate(add)]
    return ops


class PolicyChangeIn(_Strict):
    add: list[PermissionBody] = Field(default_factory=list, max_length=MAX_CHANGE_ITEMS)
    remove: list[PermissionBody] = Field(default_factory=list, max_length=MAX_CHANGE_ITEMS)
    reason: Reason = ""

    def ops(self, tenant: TenantId) -> list[RuleOp]:
        return _ops(tenant, self.add, self.remove)


class RoleChangeIn(_Strict):
    add: list[AssignmentBody] = Field(default_factory=list, max_length=MAX_CHANGE_ITEMS)
    remove: list[AssignmentBody] = Field(default_factory=list, max_length=MAX_CHANGE_ITEMS)
    reason: Reason = ""

    def ops(self, tenant: TenantId) -> list[RuleOp]:
        return _ops(tenant, self.add, self.remove)


class RuleSet(_Strict):
    """Permission rules and role assignments together (a dry run's sides, a history entry's)."""

    rules: list[PermissionBody] = Field(default_factory=list, max_length=MAX_CHANGE_ITEMS)
    roles: list[AssignmentBody] = Field(default_factory=list, max_length=MAX_CHANGE_ITEMS)

    @classmethod
    def of(cls, rules: list[Rule]) -> RuleSet:
        return cls(
            rules=[PermissionBody.of(r) for r in rules if isinstance(r, Permission)],
            roles=[AssignmentBody.of(r) for r in rules if isinstance(r, Assignment)],
        )


class DryRunIn(_Strict):
    add: RuleSet = Field(default_factory=RuleSet)
    remove: RuleSet = Field(default_factory=RuleSet)
    limit: int = Field(default=100, ge=1, le=1000, description="changed users to list, by name")
    examples: int = Field(default=10, ge=0, le=100, description="document ids per user and direction")

    def ops(self, tenant: TenantId) -> list[RuleOp]:
        return [
            *_ops(tenant, self.add.rules, self.remove.rules, "rules."),
            *_ops(tenant, self.add.roles, self.remove.roles, "roles."),
        ]


class RevertIn(_Strict):
    version: int = Field(ge=1, le=MAX_DB_INT, description="the version to return to")
    reason: Reason = ""


class PolicyListOut(BaseModel):
    policy_version: int
    total: int
    limit: int
    offset: int
    rules: list[PermissionBody]

    @classmethod
    def of(cls, page: RulePage, limit: int, offset: int) -> PolicyListOut:
        rules = [PermissionBody.of(r) for r in page.rules if isinstance(r, Permission)]
        return cls(policy_version=page.version, total=page.total, limit=limit, offset=offset, rules=rules)


class RoleListOut(BaseModel):
    policy_version: int
    total: int
    limit: int
    offset: int
    assignments: list[AssignmentBody]
    roles: list[str] = Field(description="every role of the tenant, held by someone or not")


class ChangeOut(BaseModel):
    """One version of the tenant's policy: who made it, when, why, and what it added and removed."""

    version: int
    kind: str = Field(description="rules, import, revert, key-created, key-revoked or tenant-created")
    actor: str
    at: UtcDatetime
    reason: str
    added: RuleSet
    removed: RuleSet
    added_total: int = Field(description=f"rules added; at most {MAX_SHOWN_OPS} are listed")
    removed_total: int

    @classmethod
    def of(cls, change: PolicyChange) -> ChangeOut:
        ops = ops_from_json(change.ops)
        added = [o.rule for o in ops if o.op == Op.ADD]
        removed = [o.rule for o in ops if o.op == Op.REMOVE]
        return cls(
            version=change.version,
            kind=change.kind,
            actor=change.actor,
            at=change.at,
            reason=change.reason,
            added=RuleSet.of(added[:MAX_SHOWN_OPS]),
            removed=RuleSet.of(removed[:MAX_SHOWN_OPS]),
            added_total=len(added),
            removed_total=len(removed),
        )


class HistoryOut(BaseModel):
    changes: list[ChangeOut] = Field(description="newest first")
    next_before: int | None = Field(description="pass as ?before= for the next page; null at the end")


class ExplainIn(_Strict):
    """Exactly one of ``doc_id``, ``chunk_id`` and ``label``."""

    user: Name
    doc_id: Annotated[str, Field(min_length=1, max_length=512), AfterValidator(_storable)] | None = None
    chunk_id: Annotated[str, Field(min_length=1, max_length=600), AfterValidator(_storable)] | None = None
    label: ObjectName | None = None
    action: Action = Action.READ

    @model_validator(mode="after")
    def _one_target(self) -> ExplainIn:
        given = [name for name in ("doc_id", "chunk_id", "label") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of doc_id, chunk_id and label, got {given or 'none'}")
        return self


class MatchOut(BaseModel):
    rule: PermissionBody
    path: list[str] = Field(description="the user, then each role inherited, ending at the rule's subject")
    text: str = Field(description="e.g. 'ann → hr-staff → hr: read hr (p, hr, acme, hr, read, allow)'")

    @classmethod
    def of(cls, match: Match) -> MatchOut:
        return cls(rule=PermissionBody.of(match.permission), path=list(match.path), text=match_text(match))


class LabelVerdictOut(BaseModel):
    label: str
    allowed: bool
    matches: list[MatchOut] = Field(description="every rule that matches, denies first")


class ExplainOut(BaseModel):
    user: str
    action: Action
    allowed: bool
    decision: str = Field(description="the verdict and the rules that decided it, in one sentence")
    policy_version: int
    doc_id: str | None = None
    doc_version: int | None = Field(default=None, description="the version whose labels were explained")
    labels: list[LabelVerdictOut]

    @classmethod
    def of(cls, answer: Answer) -> ExplainOut:
        return cls(
            user=answer.user,
            action=answer.action,
            allowed=answer.allowed,
            decision=answer.decision,
            policy_version=answer.version,
            doc_id=answer.doc_id,
            doc_version=answer.doc_version,
            labels=[
                LabelVerdictOut(
                    label=v.label,
                    allowed=v.explanation.allowed,
                    matches=[MatchOut.of(m) for m in v.explanation.matches],
                )
                for v in answer.verdicts
            ],
        )


class ImpactOut(BaseModel):
    user: str
    gained: int = Field(description="documents the user could read after the change and not before")
    lost: int
    gained_examples: list[str]
    lost_examples: list[str]

    @classmethod
    def of(cls, impact: Impact) -> ImpactOut:
        return cls(
            user=impact.user,
            gained=impact.gained,
            lost=impact.lost,
            gained_examples=list(impact.gained_examples),
            lost_examples=list(impact.lost_examples),
        )


class DryRunOut(BaseModel):
    policy_version: int = Field(description="the version the change was tried on; nothing was changed")
    documents: int
    users_checked: int
    users_changed: int
    documents_gained: int = Field(description="(user, document) pairs gained, over every changed user")
    documents_lost: int
    users: list[ImpactOut] = Field(description="the first `limit` changed users, by name")

    @classmethod
    def of(cls, run: DryRun) -> DryRunOut:
        return cls(
            policy_version=run.version,
            documents=run.documents,
            users_checked=run.users_checked,
            users_changed=run.users_changed,
            documents_gained=run.documents_gained,
            documents_lost=run.documents_lost,
            users=[ImpactOut.of(i) for i in run.impacts],
        )


class KeyCreateIn(_Strict):
    user: Name
    roles: list[Annotated[str, Field(min_length=1, max_length=63)]] = Field(
        default_factory=list,
        max_length=100,
        description="roles to assign the user, with the grants keys' roles carried before policies",
    )
    expires_at: datetime | None = Field(default=None, description="the key stops working then")


class KeyOut(BaseModel):
    key_id: str
    user: str
    created_at: UtcDatetime
    expires_at: UtcDatetime | None
    revoked_at: UtcDatetime | None


class KeyCreatedOut(BaseModel):
    key_id: str
    token: str = Field(description="the API key; shown this once, only its hash is stored")
    user: str
    expires_at: UtcDatetime | None


class KeyListOut(BaseModel):
    keys: list[KeyOut]
