"""Policy rules as values: parsed, validated against the tenant they belong to, and spelled as casbin CSV.

A rule is either a permission (``p, subject, tenant, object, action, effect``) or a role assignment
(``g, member, role, tenant``); the tenant is the casbin domain. Validation happens here, once, for every
way a rule arrives (REST, CLI, CSV import), so the enforcer only ever holds rules it understands.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from core.errors import InvalidInputError
from core.types import TenantId


class Action(StrEnum):
    READ = "read"
    WRITE = "write"
    INVOKE = "invoke"
    MANAGE = "manage"


class Effect(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


# Names of users and roles: what an API key's user is called, or a role an admin invents.
# Labels, and role names given with --roles (a role reads the label of its own name).
LABEL_RE = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,62}$")
_SUBJECT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+:-]{0,199}$")
# Objects: a label, tool:<name>, audit, admin:<area>, or one of the patterns "*" (everything), "tool:*" and
# "admin:*" (casbin's keyMatch). No other pattern: a label pattern like "eng-*" would make the readable
# label set infinite, and that set is what the engine filters on.
_OBJECT_RE = re.compile(r"^(\*|(tool|admin):\*|[a-z0-9][a-z0-9_.:-]{0,62})$")
RESERVED_PREFIXES = ("tool:", "admin:")
AUDIT_OBJECT = "audit"


@dataclass(frozen=True, order=True)
class Permission:
    subject: str
    tenant: TenantId
    obj: str
    action: Action
    effect: Effect = Effect.ALLOW

    @property
    def fields(self) -> tuple[str, ...]:
        return ("p", self.subject, self.tenant, self.obj, self.action.value, self.effect.value)

    def matches(self, obj: str) -> bool:
        """casbin's ``keyMatch``: exact, or a prefix when the rule's object ends in ``*``."""
        if self.obj.endswith("*"):
            return obj.startswith(self.obj[:-1])
        return obj == self.obj


@dataclass(frozen=True, order=True)
class Assignment:
    member: str
    role: str
    tenant: TenantId

    @property
    def fields(self) -> tuple[str, ...]:
        return ("g", self.member, self.role, self.tenant)


Rule = Permission | Assignment


def is_label_object(obj: str) -> bool:
    """Does a rule's object speak about document labels (rather than tools, audit or admin areas)?"""
    return obj == "*" or not (obj.startswith(RESERVED_PREFIXES) or obj == AUDIT_OBJECT)


def parse_rule(fields: Iterable[str], tenant: TenantId, *, where: str = "rule") -> Rule:
    """One rule from its casbin fields; the tenant column must name the caller's own tenant."""
    parts = [f.strip() for f in fields]
    if not parts or parts[0] not in ("p", "g"):
        raise InvalidInputError(f"{where}: a rule starts with 'p' or 'g', got {parts[:1]!r}")
    if parts[0] == "g":
        return _assignment(parts, tenant, where)
    return _permission(parts, tenant, where)


def _permission(parts: list[str], tenant: TenantId, where: str) -> Permission:
    if len(parts) == 5:
        parts.append(Effect.ALLOW.value)
    if len(parts) != 6:
        raise InvalidInputError(
            f"{where}: 'p' takes subject, tenant, object, action[, effect], got {parts[1:]}"
        )
    _, subject, domain, obj, action, effect = parts
    _check_tenant(domain, tenant, where)
    _check_subject(subject, where)
    check_object(obj, where)
    try:
        checked_action = Action(action)
    except ValueError:
        known = ", ".join(a.value for a in Action)
        raise InvalidInputError(f"{where}: action must be one of {known}, got {action!r}") from None
    try:
        checked_effect = Effect(effect)
    except ValueError:
        raise InvalidInputError(f"{where}: effect must be allow or deny, got {effect!r}") from None
    return Permission(subject, tenant, obj, checked_action, checked_effect)


def _assignment(parts: list[str], tenant: TenantId, where: str) -> Assignment:
    if len(parts) != 4:
        raise InvalidInputError(f"{where}: 'g' takes member, role, tenant, got {parts[1:]}")
    _, member, role, domain = parts
    _check_tenant(domain, tenant, where)
    _check_subject(member, where)
    _check_subject(role, where)
    if member == role:
        raise InvalidInputError(f"{where}: {member!r} cannot be a member of itself")
    return Assignment(member, role, tenant)


def check_object(obj: str, where: str = "object") -> str:
    """A policy object: a label, tool:<name>, audit, admin:<area>, or one of the patterns."""
    if not _OBJECT_RE.fullmatch(obj):
        raise InvalidInputError(
            f"{where}: object must be a label, tool:<name>, audit or admin:<area>, got {obj!r}"
        )
    return obj


def _check_tenant(domain: str, tenant: TenantId, where: str) -> None:
    if domain != tenant:
        raise InvalidInputError(f"{where}: rules may only name your own tenant {tenant!r}, got {domain!r}")


def check_name(name: str, where: str = "name") -> str:
    """A user or role name, as rules spell them."""
    _check_subject(name, where)
    return name


def _check_subject(name: str, where: str) -> None:
    if not _SUBJECT_RE.fullmatch(name):
        raise InvalidInputError(f"{where}: user and role names are 1-200 of A-Z a-z 0-9 _.@+:-, got {name!r}")


def parse_csv(text: str, tenant: TenantId) -> list[Rule]:
    """casbin's policy CSV (``p, ...`` and ``g, ...`` lines; blank lines and ``#`` comments skipped).
    The first bad line raises, naming its number, so a rejected import changes nothing."""
    return [parse_rule(row, tenant, where=f"line {number}") for number, row in csv_rows(text)]


def csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """The rows of a policy CSV with their line numbers, skipping blank lines and ``#`` comments."""
    reader = csv.reader(io.StringIO(text), skipinitialspace=True, strict=True)
    try:
        for number, row in enumerate(reader, start=1):
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            yield number, row
    except csv.Error as error:
        raise InvalidInputError(f"line {reader.line_num}: malformed CSV ({error})") from None


def to_csv(rules: Iterable[Rule]) -> Iterator[str]:
    """One casbin CSV line per rule, permissions first, each group sorted: stable across exports."""
    ordered = sorted(rules, key=lambda r: (isinstance(r, Assignment), r.fields))
    for rule in ordered:
        yield ", ".join(rule.fields) + "\n"


def rule_from_row(ptype: str, values: Iterable[str | None]) -> Rule:
    """A stored ``casbin_rule`` row back into a rule (already validated when it was written)."""
    fields = [v for v in values if v is not None and v != ""]
    tenant = TenantId(fields[1] if ptype == "p" else fields[2])
    return parse_rule([ptype, *fields], tenant, where="stored rule")
