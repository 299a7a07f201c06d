"""The indexed evaluator decides exactly as casbin does with acl/model.conf, for any small policy."""

from __future__ import annotations

import casbin
from hypothesis import given, settings
from hypothesis import strategies as st

from acl.enforcer import MODEL_PATH
from acl.graph import TenantPolicy
from acl.rules import Action, Assignment, Effect, Permission, Rule
from core.types import TenantId

T = TenantId("acme")
OTHER = TenantId("other")
USERS = ["ann", "bob", "cy"]
ROLES = ["hr", "staff", "eng", "boss"]
OBJECTS = ["public", "hr", "finance", "audit", "tool:refund", "admin:policies"]
PATTERNS = [*OBJECTS, "*", "tool:*", "admin:*"]

permissions = st.builds(
    Permission,
    subject=st.sampled_from(USERS + ROLES),
    tenant=st.just(T),
    obj=st.sampled_from(PATTERNS),
    action=st.sampled_from(list(Action)),
    effect=st.sampled_from(list(Effect)),
)
assignments = st.builds(
    Assignment, member=st.sampled_from(USERS + ROLES), role=st.sampled_from(ROLES), tenant=st.just(T)
).filter(lambda a: a.member != a.role)
policies_st = st.lists(st.one_of(permissions, assignments), max_size=25)


def casbin_enforcer(rules: list[Rule], foreign: list[Rule]) -> casbin.Enforcer:
    enforcer = casbin.Enforcer(str(MODEL_PATH))
    for rule in [*rules, *foreign]:
        if isinstance(rule, Permission):
            enforcer.add_named_policy("p", list(rule.fields[1:]))
        else:
            enforcer.add_named_grouping_policy("g", list(rule.fields[1:]))
    return enforcer


@settings(max_examples=150, deadline=None)
@given(policies_st)
def test_every_decision_matches_casbin(rules: list[Rule]) -> None:
    # The same rules in another tenant must never leak into this one.
    foreign: list[Rule] = [Permission("ann", OTHER, "*", Action.READ), Assignment("ann", "boss", OTHER)]
    enforcer = casbin_enforcer(rules, foreign)
    policy = TenantPolicy(T, rules)
    for user in USERS:
        for action in Action:
            grants = policy.label_grants(user, action)
            for obj in OBJECTS:
                expected = enforcer.enforce(user, T, obj, action.value)
                assert policy.allows(user, obj, action) == expected, (user, obj, action)
                if obj not in ("audit", "tool:refund", "admin:policies"):
                    assert grants.permits([obj]) == expected, (user, obj, action, grants)


@settings(max_examples=100, deadline=None)
@given(policies_st, st.lists(st.sampled_from(["public", "hr", "finance", "eng"]), min_size=1, max_size=3))
def test_a_chunk_needs_one_allowed_label_and_no_denied_one(rules: list[Rule], labels: list[str]) -> None:
    enforcer = casbin_enforcer(rules, [])
    policy = TenantPolicy(T, rules)
    for user in USERS:
        verdicts = [enforcer.enforce(user, T, label, "read") for label in labels]
        denied = any(
            not enforcer.enforce(user, T, label, "read") and policy.explain(user, label, Action.READ).matches
            for label in labels
        )
        expected = any(verdicts) and not denied
        assert policy.label_grants(user, Action.READ).permits(labels) == expected


def test_explain_names_the_role_path_and_the_rule() -> None:
    rules: list[Rule] = [
        Assignment("ann", "hr-staff", T),
        Assignment("hr-staff", "hr", T),
        Permission("hr", T, "hr", Action.READ),
    ]
    explanation = TenantPolicy(T, rules).explain("ann", "hr", Action.READ)
    assert explanation.allowed
    assert explanation.deciding[0].path == ("ann", "hr-staff", "hr")
    assert explanation.deciding[0].permission == Permission("hr", T, "hr", Action.READ)


def test_a_deny_beats_an_allow_reached_through_any_role() -> None:
    rules: list[Rule] = [
        Assignment("ann", "staff", T),
        Assignment("ann", "contractor", T),
        Permission("staff", T, "finance", Action.READ),
        Permission("contractor", T, "finance", Action.READ, Effect.DENY),
    ]
    policy = TenantPolicy(T, rules)
    assert not policy.allows("ann", "finance", Action.READ)
    assert policy.label_grants("ann", Action.READ).denied == {"finance"}
    assert [m.permission.effect for m in policy.explain("ann", "finance", Action.READ).deciding] == [
        Effect.DENY
    ]


def test_removing_a_rule_takes_its_grant_away() -> None:
    grant = Permission("hr", T, "hr", Action.READ)
    policy = TenantPolicy(T, [Assignment("ann", "hr", T), grant])
    assert policy.allows("ann", "hr", Action.READ)
    assert policy.remove(grant)
    assert not policy.allows("ann", "hr", Action.READ)
    assert not policy.remove(grant)
