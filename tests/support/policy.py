"""Decisions for users described by the roles their keys used to carry, through the shipped policy.

The old hard-coded rule (roles named like labels, ``ingest`` writes what it holds, ``admin`` all) must be
reproduced exactly by the built-in and legacy rules; tests written against that rule use these helpers,
so they now check the policy path.
"""

from __future__ import annotations

from collections.abc import Iterable

from acl.builtin import builtin_rules, legacy_rules
from acl.enforcer import Decision, decision_from
from acl.filters import WriteGrant
from acl.graph import TenantPolicy
from core.access import AccessFilter
from core.types import TenantId


def legacy(tenant: TenantId, user: str, roles: Iterable[str]) -> Decision:
    policy = TenantPolicy(tenant, [*builtin_rules(tenant), *legacy_rules(tenant, user, roles)])
    return decision_from(policy, user, 1)


def access_filter(decision: Decision) -> AccessFilter:
    return decision.read


def write_grant(decision: Decision) -> WriteGrant:
    return decision.write


def may_write(decision: Decision, labels: Iterable[str]) -> bool:
    return decision.write.permits(decision.tenant, labels)
