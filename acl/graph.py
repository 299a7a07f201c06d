"""One tenant's policy in memory, indexed so that a caller's whole grant is computed in microseconds.

casbin's stock role manager rebuilds role links by scanning every role for each new one, and its
``enforce`` evaluates the matcher over every rule: at 100,000 rules that is tens of milliseconds per
question. Here the same model (``acl/model.conf``) is evaluated from two indexes — member → roles and
subject → permissions — so a decision costs the size of the caller's own role graph and rules. The
semantics are casbin's: a property test (tests/unit/test_policy_graph.py) checks every decision against
``casbin.Enforcer.enforce`` on random policies.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from acl.rules import Action, Assignment, Effect, Permission, Rule, is_label_object
from core.access import EVERY_LABEL, EveryLabel, LabelGrant
from core.types import TenantId

# casbin's default role manager follows inheritance at most this deep; so do we.
MAX_HIERARCHY = 10


@dataclass(frozen=True)
class Grants:
    """What one user may do with labels, per action: an allow set (or every label) and a deny set."""

    allowed: LabelGrant
    denied: frozenset[str]

    def permits(self, labels: Iterable[str]) -> bool:
        """A chunk is readable when one of its labels is allowed and none is denied."""
        wanted = frozenset(labels)
        if not wanted or not wanted.isdisjoint(self.denied):
            return False
        return isinstance(self.allowed, EveryLabel) or not wanted.isdisjoint(self.allowed)


@dataclass(frozen=True)
class Match:
    """One rule that speaks to a question, and how the user reaches its subject."""

    permission: Permission
    path: tuple[str, ...]  # user, role, role, ... ending at the rule's subject


@dataclass(frozen=True)
class Explanation:
    allowed: bool
    matches: tuple[Match, ...]  # every matching rule, denies first

    @property
    def deciding(self) -> tuple[Match, ...]:
        """The rules that decided: the denies when any matched, else the allows."""
        effect = Effect.ALLOW if self.allowed else Effect.DENY
        return tuple(m for m in self.matches if m.permission.effect == effect)


class TenantPolicy:
    """The rules of one tenant; not thread-safe on its own (``acl.enforcer`` guards it)."""

    def __init__(self, tenant: TenantId, rules: Iterable[Rule] = ()) -> None:
        self.tenant = tenant
        self._permissions: dict[str, set[Permission]] = defaultdict(set)
        self._roles_of: dict[str, set[str]] = defaultdict(set)
        self._members_of: dict[str, set[str]] = defaultdict(set)
        self._size = 0
        for rule in rules:
            self.add(rule)

    def __len__(self) -> int:
        return self._size

    def add(self, rule: Rule) -> bool:
        if isinstance(rule, Permission):
            bucket = self._permissions[rule.subject]
            if rule in bucket:
                return False
            bucket.add(rule)
        else:
            if rule.role in self._roles_of[rule.member]:
                return False
            self._roles_of[rule.member].add(rule.role)
            self._members_of[rule.role].add(rule.member)
        self._size += 1
        return True

    def remove(self, rule: Rule) -> bool:
        if isinstance(rule, Permission):
            bucket = self._permissions.get(rule.subject)
            if bucket is None or rule not in bucket:
                return False
            bucket.discard(rule)
        else:
            roles = self._roles_of.get(rule.member)
            if roles is None or rule.role not in roles:
                return False
            roles.discard(rule.role)
            self._members_of[rule.role].discard(rule.member)
        self._size -= 1
        return True

    def __contains__(self, rule: Rule) -> bool:
        if isinstance(rule, Permission):
            return rule in self._permissions.get(rule.subject, ())
        return rule.role in self._roles_of.get(rule.member, ())

    def rules(self) -> Iterator[Rule]:
        for bucket in self._permissions.values():
            yield from bucket
        for member, roles in self._roles_of.items():
            for role in roles:
                yield Assignment(member, role, self.tenant)

    def roles(self) -> set[str]:
        """Every name something is assigned to, or that holds a permission without being a user."""
        return {role for role, members in self._members_of.items() if members}

    def members(self) -> set[str]:
        """Every name assigned to a role (users, and roles that inherit)."""
        return {member for member, roles in self._roles_of.items() if roles}

    def paths(self, user: str) -> dict[str, tuple[str, ...]]:
        """Each subject the user acts as (itself and every inherited role) with a shortest path to it."""
        found: dict[str, tuple[str, ...]] = {user: (user,)}
        queue = deque([user])
        while queue:
            name = queue.popleft()
            path = found[name]
            if len(path) > MAX_HIERARCHY:
                continue
            for role in self._roles_of.get(name, ()):
                if role not in found:
                    found[role] = (*path, role)
                    queue.append(role)
        return found

    def permissions_of(self, user: str) -> Iterator[tuple[Permission, tuple[str, ...]]]:
        for subject, path in self.paths(user).items():
            for permission in self._permissions.get(subject, ()):
                yield permission, path

    def label_grants(self, user: str, action: Action) -> Grants:
        """The user's allowed and denied labels for ``action``, for the engine filter."""
        allowed: set[str] = set()
        denied: set[str] = set()
        every = False
        denies_all = False
        for permission, _ in self.permissions_of(user):
            if permission.action != action or not is_label_object(permission.obj):
                continue
            wildcard = permission.obj == "*"
            if permission.effect == Effect.DENY:
                denies_all |= wildcard
                denied.add(permission.obj)
            else:
                every |= wildcard
                allowed.add(permission.obj)
        denied.discard("*")
        if denies_all:
            return Grants(frozenset(), frozenset(denied))
        grant: LabelGrant = EVERY_LABEL if every else frozenset(allowed - denied)
        return Grants(grant, frozenset(denied))

    def explain(self, user: str, obj: str, action: Action) -> Explanation:
        """Every rule that matches ``obj`` and ``action`` for the user, and the model's verdict."""
        matches = [
            Match(permission, path)
            for permission, path in self.permissions_of(user)
            if permission.action == action and permission.matches(obj)
        ]
        matches.sort(key=lambda m: (m.permission.effect != Effect.DENY, len(m.path), m.permission.fields))
        allowed = bool(matches) and all(m.permission.effect == Effect.ALLOW for m in matches)
        return Explanation(allowed, tuple(matches))

    def allows(self, user: str, obj: str, action: Action) -> bool:
        return self.explain(user, obj, action).allowed
