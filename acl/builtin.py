"""The roles every tenant starts with, and the grants a key's ``--roles`` used to imply.

- ``admin`` may do everything in its tenant (every label and object, every action);
- ``auditor`` reads the audit trail and provenance metadata; document text only with a label grant;
- ``member`` reads ``public``; every user is made a member when their first key is issued;
- ``ingest`` writes ``public``.

``legacy_rules`` reproduces the rule that was hard-coded before policies existed, for keys issued with
``--roles`` (and, in migration 0005, for keys issued before): a role reads the label of its own name,
and a user holding ``ingest`` writes the labels named like each of its roles.
"""

from __future__ import annotations

from collections.abc import Iterable

from acl.rules import AUDIT_OBJECT, RESERVED_PREFIXES, Action, Assignment, Permission, Rule
from core.types import TenantId

ADMIN_ROLE = "admin"
AUDITOR_ROLE = "auditor"
MEMBER_ROLE = "member"
INGEST_ROLE = "ingest"
PUBLIC_LABEL = "public"


def builtin_rules(tenant: TenantId) -> list[Rule]:
    rules: list[Rule] = [Permission(ADMIN_ROLE, tenant, "*", action) for action in Action]
    rules.append(Permission(AUDITOR_ROLE, tenant, AUDIT_OBJECT, Action.READ))
    rules.append(Permission(MEMBER_ROLE, tenant, PUBLIC_LABEL, Action.READ))
    rules.append(Permission(INGEST_ROLE, tenant, PUBLIC_LABEL, Action.WRITE))
    return rules


def legacy_rules(tenant: TenantId, user: str, roles: Iterable[str]) -> list[Rule]:
    """Role assignments for ``user`` and the label grants its roles carried under the old rule."""
    held = sorted({r for r in roles if r and not r.startswith(RESERVED_PREFIXES) and r != AUDIT_OBJECT})
    rules: list[Rule] = [Assignment(user, MEMBER_ROLE, tenant)]
    rules += [Assignment(user, role, tenant) for role in held if role != MEMBER_ROLE]
    rules += [Permission(role, tenant, role, Action.READ) for role in held if role not in _NO_OWN_LABEL]
    if MEMBER_ROLE in held:
        # Every user is a member, so "member reads the label member" would reach everyone: only the
        # users whose keys named the role could read that label before.
        rules.append(Permission(user, tenant, MEMBER_ROLE, Action.READ))
    if INGEST_ROLE in held:
        rules += [Permission(user, tenant, role, Action.WRITE) for role in held if role != ADMIN_ROLE]
    return rules


# admin reads every label anyway; public is member's built-in grant; member is handled per user.
_NO_OWN_LABEL = {ADMIN_ROLE, PUBLIC_LABEL, MEMBER_ROLE}
