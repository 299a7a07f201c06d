"""Why may a user do something, and what would a change do: explanations and dry runs over documents.

``acl`` sits beside ``provenance`` and imports nothing from it, so the documents and their labels come
through the ``DocumentLabels`` port; provenance implements it and the runtime wires the two together,
as it does for the search's ``current_writes``. Both answers are read-only: a dry run applies the change
to a copy of the policy (``AccessControl.snapshot``), never to the stored one.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import islice
from typing import Protocol

from sqlalchemy import Engine
from sqlmodel import Session

from acl.enforcer import AccessControl
from acl.graph import Explanation, Match, TenantPolicy
from acl.keys import key_users
from acl.policies import Op, RuleOp
from acl.rules import Action, Effect, check_object
from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.types import TenantId


class DocumentLabels(Protocol):
    """The labels of stored documents, as provenance knows them."""

    def current(self, tenant: TenantId, doc_id: str) -> tuple[int, tuple[str, ...]] | None:
        """The document's current version and its labels; None when the tenant has no such document."""
        ...

    def of_chunk(self, tenant: TenantId, chunk_id: str) -> tuple[str, int, tuple[str, ...]] | None:
        """The chunk's document, version and that version's labels; None when there is no such chunk."""
        ...

    def every_current(self, tenant: TenantId) -> Iterable[tuple[str, Sequence[str]]]:
        """Every document's id and its current version's labels, in id order."""
        ...


class TargetKind(StrEnum):
    LABEL = "label"  # any policy object: a label, tool:<name>, audit, admin:<area>
    DOCUMENT = "document"
    CHUNK = "chunk"


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    name: str


@dataclass(frozen=True)
class LabelVerdict:
    label: str
    explanation: Explanation


@dataclass(frozen=True)
class Answer:
    """The verdict on one question, every rule that spoke to it, and the policy version it came from."""

    user: str
    action: Action
    target: Target
    allowed: bool
    verdicts: tuple[LabelVerdict, ...]
    version: int
    doc_id: str | None = None
    doc_version: int | None = None

    @property
    def decision(self) -> str:
        verb = "may" if self.allowed else "may not"
        return f"{self.user} {verb} {self.action.value} {self._what()}: {self._why()}"

    def _what(self) -> str:
        if self.target.kind == TargetKind.LABEL:
            return repr(self.target.name)
        labels = ", ".join(v.label for v in self.verdicts)
        document = f"document {self.doc_id!r} (version {self.doc_version}, labels {labels})"
        if self.target.kind == TargetKind.CHUNK:
            return f"chunk {self.target.name!r} of {document}"
        return document

    def _why(self) -> str:
        if self.allowed:
            return "; ".join(
                match_text(m) for v in self.verdicts if v.explanation.allowed for m in v.explanation.deciding
            )
        denies = [
            m for v in self.verdicts for m in v.explanation.matches if m.permission.effect == Effect.DENY
        ]
        if denies:
            return "; ".join(match_text(m) for m in denies)
        missing = ", ".join(v.label for v in self.verdicts if not v.explanation.allowed)
        return f"no rule allows {self.action.value} on {missing} (default deny)"


def match_text(match: Match) -> str:
    """One rule and the role path to it: ``ann → hr-staff → hr: read hr (p, hr, acme, hr, read, allow)``."""
    permission = match.permission
    deny = "deny " if permission.effect == Effect.DENY else ""
    rule = ", ".join(permission.fields)
    return f"{' → '.join(match.path)}: {deny}{permission.action.value} {permission.obj} ({rule})"


@dataclass(frozen=True)
class Impact:
    """What one user would gain or lose: document counts and the first few ids, in id order."""

    user: str
    gained: int
    lost: int
    gained_examples: tuple[str, ...]
    lost_examples: tuple[str, ...]


@dataclass(frozen=True)
class DryRun:
    version: int  # the policy version the change was tried on
    documents: int
    users_checked: int
    users_changed: int
    documents_gained: int  # (user, document) pairs, over every changed user
    documents_lost: int
    impacts: tuple[Impact, ...]  # the first ``limit`` changed users, by name


@dataclass
class _LabelGroup:
    """Documents sharing one label set: the unit a read decision is made on."""

    labels: frozenset[str]
    count: int = 0
    examples: list[str] = field(default_factory=list)


class AccessReview:
    def __init__(self, engine: Engine, access: AccessControl, documents: DocumentLabels) -> None:
        self._engine = engine
        self._access = access
        self._documents = documents

    def explain(self, tenant: TenantId, user: str, target: Target, action: Action) -> Answer:
        """Every rule that decides ``action`` on the target for ``user``, with the role path to it. A
        document is explained over its current version's labels, a chunk over its own version's."""
        doc_id, doc_version, labels = self._labels_of(tenant, target)

        def ask(policy: TenantPolicy) -> tuple[LabelVerdict, ...]:
            return tuple(LabelVerdict(label, policy.explain(user, label, action)) for label in labels)

        verdicts, version = self._access.inspect(tenant, ask)
        return Answer(
            user, action, target, _verdict(target, action, verdicts), verdicts, version, doc_id, doc_version
        )

    def _labels_of(self, tenant: TenantId, target: Target) -> tuple[str | None, int | None, tuple[str, ...]]:
        if target.kind == TargetKind.LABEL:
            return None, None, (check_object(target.name, "label"),)
        if target.kind == TargetKind.DOCUMENT:
            found = self._documents.current(tenant, target.name)
            if found is None:
                raise NotFoundError(f"document {target.name!r} not found")
            return target.name, found[0], found[1]
        chunk = self._documents.of_chunk(tenant, target.name)
        if chunk is None:
            raise NotFoundError(f"chunk {target.name!r} not found")
        return chunk

    def dry_run(self, tenant: TenantId, ops: Sequence[RuleOp], *, limit: int, examples: int) -> DryRun:
        """Which users would gain or lose read access to which documents if ``ops`` were applied. Users
        are the tenant's key users and every member of a role that is not itself a role."""
        if not ops:
            raise InvalidInputError("a dry run needs at least one rule to add or remove")
        rules, version = self._access.snapshot(tenant)
        before = TenantPolicy(tenant, rules)
        after = TenantPolicy(tenant, rules)
        _apply(after, ops)
        with Session(self._engine) as session:
            users = key_users(session, tenant)
        # Members of roles that are not roles themselves, before or after (taking hr-staff's last
        # member away must not make hr-staff look like a user).
        users |= (before.members() | after.members()) - before.roles() - after.roles()
        groups = self._groups(tenant, examples)
        impacts: list[Impact] = []
        for user in sorted(users):
            impact = _impact(user, before, after, groups, examples)
            if impact is not None:
                impacts.append(impact)
        return DryRun(
            version=version,
            documents=sum(g.count for g in groups),
            users_checked=len(users),
            users_changed=len(impacts),
            documents_gained=sum(i.gained for i in impacts),
            documents_lost=sum(i.lost for i in impacts),
            impacts=tuple(impacts[:limit]),
        )

    def _groups(self, tenant: TenantId, examples: int) -> list[_LabelGroup]:
        """The tenant's documents grouped by label set, each keeping its first ``examples`` ids: a
        decision depends only on the labels, so a million documents cost a few hundred checks a user."""
        groups: dict[frozenset[str], _LabelGroup] = {}
        for doc_id, labels in self._documents.every_current(tenant):
            key = frozenset(labels)
            group = groups.get(key)
            if group is None:
                group = groups[key] = _LabelGroup(key)
            group.count += 1
            if len(group.examples) < examples:
                group.examples.append(doc_id)
        return list(groups.values())


def _verdict(target: Target, action: Action, verdicts: tuple[LabelVerdict, ...]) -> bool:
    if target.kind == TargetKind.LABEL:
        return verdicts[0].explanation.allowed
    if action == Action.READ:  # one label allowed and none denied, as the engine filter reads
        denied = any(m.permission.effect == Effect.DENY for v in verdicts for m in v.explanation.matches)
        return not denied and any(v.explanation.allowed for v in verdicts)
    return all(v.explanation.allowed for v in verdicts)  # writing needs every label


def _apply(policy: TenantPolicy, ops: Sequence[RuleOp]) -> None:
    """The change on the copy, refused as a whole on the same terms as a real one (``acl.policies``)."""
    for number, item in enumerate(ops, start=1):
        if item.rule.tenant != policy.tenant:
            raise InvalidInputError(f"rule {number}: rules may only name your own tenant {policy.tenant!r}")
        fields = ", ".join(item.rule.fields)
        if item.op == Op.ADD and not policy.add(item.rule):
            raise ConflictError(f"rule {number} already exists: {fields}")
        if item.op == Op.REMOVE and not policy.remove(item.rule):
            raise NotFoundError(f"rule {number} does not exist: {fields}")


def _impact(
    user: str, before: TenantPolicy, after: TenantPolicy, groups: list[_LabelGroup], examples: int
) -> Impact | None:
    was = before.label_grants(user, Action.READ)
    will = after.label_grants(user, Action.READ)
    if was == will:
        return None
    gained = [g for g in groups if will.permits(g.labels) and not was.permits(g.labels)]
    lost = [g for g in groups if was.permits(g.labels) and not will.permits(g.labels)]
    if not gained and not lost:
        return None
    return Impact(
        user,
        sum(g.count for g in gained),
        sum(g.count for g in lost),
        _first(gained, examples),
        _first(lost, examples),
    )


def _first(groups: list[_LabelGroup], examples: int) -> tuple[str, ...]:
    """The first ids over several groups: each group's list is already its first ids in order."""
    return tuple(islice(heapq.merge(*(g.examples for g in groups)), examples))
