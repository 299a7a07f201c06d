"""Nothing outside the caller's tenant and grants ever leaves a REST endpoint, whatever the policy.

Random tenants, users, roles (inheriting from roles), allow and deny rules, labelled documents with
versions that change their labels, jobs, and policy edits and key revocations between requests, on both
vector adapters and both databases. What each caller should see is computed here, independently of
``acl/``: a small reference evaluator of the model, itself checked against ``casbin.Enforcer`` with
``acl/model.conf`` on every label it decides.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import casbin
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qdrant_client import QdrantClient

from acl.admin import Actor
from acl.enforcer import MODEL_PATH
from acl.policies import Op, RuleOp
from acl.rules import Action, Assignment, Effect, Permission, Rule
from api.app import create_app
from api.runtime import Runtime, build_runtime
from core.settings import IngestSettings, Settings
from core.types import TenantId
from ingest.prepare import InlinePreparer
from retrieval.edge import EdgeVectorStore
from retrieval.ports import VectorStore
from retrieval.server import QdrantServerStore
from tests.support.fakes import FakeEmbedder, FakeRedactor

LABELS = ["public", "hr", "finance", "eng"]
USERS = ["ann", "bob", "cy"]
ROLES = ["staff", "hr-team", "boss"]
DOCS = ["d0", "d1", "d2"]
OBJECTS = [*LABELS, "*"]
TENANT_NAMES = itertools.count()


# --- the reference model -------------------------------------------------------------------------


def builtin(tenant: TenantId) -> set[Rule]:
    """The built-in roles as the design states them, plus what issuing a key adds (user is a member)."""
    rules: set[Rule] = {Permission("admin", tenant, "*", a) for a in Action}
    rules |= {
        Permission("auditor", tenant, "audit", Action.READ),
        Permission("member", tenant, "public", Action.READ),
        Permission("ingest", tenant, "public", Action.WRITE),
        Assignment("root", "admin", tenant),
        Assignment("root", "member", tenant),
    }
    rules |= {Assignment(user, "member", tenant) for user in USERS}
    return rules


def subjects_of(rules: set[Rule], user: str) -> set[str]:
    """The user and every role it reaches through role inheritance (cycles allowed)."""
    found, queue = {user}, deque([user])
    while queue:
        name = queue.popleft()
        for rule in rules:
            if isinstance(rule, Assignment) and rule.member == name and rule.role not in found:
                found.add(rule.role)
                queue.append(rule.role)
    return found


def may_read(rules: set[Rule], user: str, labels: tuple[str, ...]) -> bool:
    """One label allowed and none denied; ``*`` allows or denies every label."""
    subjects = subjects_of(rules, user)
    held = [
        p for p in rules if isinstance(p, Permission) and p.subject in subjects and p.action == Action.READ
    ]
    allowed = {p.obj for p in held if p.effect == Effect.ALLOW}
    denied = {p.obj for p in held if p.effect == Effect.DENY}
    if "*" in denied or denied & set(labels):
        return False
    return "*" in allowed or bool(allowed & set(labels))


def check_reference_against_casbin(rules: set[Rule], tenant: TenantId) -> None:
    enforcer = casbin.Enforcer(str(MODEL_PATH))
    for rule in rules:
        if isinstance(rule, Permission):
            enforcer.add_named_policy("p", list(rule.fields[1:]))
        else:
            enforcer.add_named_grouping_policy("g", list(rule.fields[1:]))
    for user in USERS:
        for label in LABELS:
            assert enforcer.enforce(user, tenant, label, "read") == may_read(rules, user, (label,))


# --- random worlds -------------------------------------------------------------------------------

permission_specs = st.tuples(
    st.sampled_from(USERS + ROLES), st.sampled_from(OBJECTS), st.sampled_from(list(Effect))
)
assignment_specs = st.tuples(st.sampled_from(USERS + ROLES), st.sampled_from(ROLES)).filter(
    lambda pair: pair[0] != pair[1]
)
label_sets = st.lists(st.sampled_from(LABELS), min_size=1, max_size=2, unique=True).map(
    lambda ls: tuple(sorted(ls))
)
# (tenant index, labels, docs it writes a new version of)
job_specs = st.tuples(
    st.integers(0, 1), label_sets, st.lists(st.sampled_from(DOCS), min_size=1, max_size=3, unique=True)
)
# (tenant index, add?, a permission or an assignment spec) or (tenant index, "revoke", user)
edit_specs = st.one_of(
    st.tuples(st.integers(0, 1), st.booleans(), st.one_of(permission_specs, assignment_specs)),
    st.tuples(st.integers(0, 1), st.just("revoke"), st.sampled_from(USERS)),
)


@dataclass
class Tenant:
    name: TenantId
    rules: set[Rule]
    tokens: dict[str, str]  # user -> key; "root" holds admin
    revoked: set[str] = field(default_factory=set)
    # doc -> version -> (labels, marker)
    versions: dict[str, dict[int, tuple[tuple[str, ...], str]]] = field(default_factory=dict)
    jobs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # job id -> labels

    def current(self, doc: str) -> int | None:
        held = self.versions.get(doc)
        return max(held) if held else None


def to_rule(tenant: TenantId, spec: tuple[Any, ...]) -> Rule:
    if len(spec) == 3:
        subject, obj, effect = spec
        return Permission(subject, tenant, obj, Action.READ, effect)
    member, role = spec
    return Assignment(member, role, tenant)


# --- the service ---------------------------------------------------------------------------------


@pytest.fixture(params=["edge", "server-memory"])
def adapter(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def service(adapter: str, database_url: str, tmp_path: Path) -> Iterator[tuple[Runtime, TestClient]]:
    embedder = FakeEmbedder()
    store: VectorStore
    if adapter == "edge":
        store = EdgeVectorStore(tmp_path / "shards", dimension=embedder.dimension)
    else:
        store = QdrantServerStore(QdrantClient(":memory:"), dimension=embedder.dimension)
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database_url, ingest=IngestSettings(redaction_workers=0)
    )
    runtime = build_runtime(
        settings, store=store, embedder=lambda: embedder, preparer=lambda: InlinePreparer(FakeRedactor())
    )
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            yield runtime, client
    finally:
        runtime.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_tenant(runtime: Runtime, index: int) -> Tenant:
    name = TenantId(f"t{next(TENANT_NAMES)}-{index}")
    actor = Actor(name, "test")
    tokens = {"root": runtime.admin.issue_key(actor, "root", roles=("admin",)).token}
    tokens |= {user: runtime.admin.issue_key(actor, user).token for user in USERS}
    return Tenant(name, builtin(name), tokens)


def ingest(client: TestClient, tenant: Tenant, number: int, labels: tuple[str, ...], docs: list[str]) -> None:
    markers = {doc: f"mk{tenant.name.replace('-', '')}x{doc}x{number}" for doc in docs}
    records = [
        {"id": doc, "title": doc, "text": f"Shared widget report {marker}."}
        for doc, marker in markers.items()
    ]
    headers = bearer(tenant.tokens["root"])
    accepted = client.post(
        "/v1/ingest/jobs", json={"records": records, "labels": list(labels)}, headers=headers
    )
    assert accepted.status_code == 202, accepted.text
    for _ in range(400):
        job = client.get(accepted.json()["href"], headers=headers).json()
        if job["status"] not in ("queued", "running"):
            break
        time.sleep(0.02)
    assert job["status"] == "succeeded", job
    tenant.jobs[job["job_id"]] = labels
    for item in job["items"]:
        doc = item["doc_id"]
        assert item["version"] == (tenant.current(doc) or 0) + 1, item
        tenant.versions.setdefault(doc, {})[item["version"]] = (labels, markers[doc])


def edit(runtime: Runtime, tenant: Tenant, spec: tuple[Any, ...]) -> None:
    actor = Actor(tenant.name, "test")
    _, what, detail = spec
    if what == "revoke":
        if detail in tenant.revoked:
            return
        key_id = tenant.tokens[detail].split("_")[1]
        runtime.admin.revoke_key(actor, key_id)
        tenant.revoked.add(detail)
        return
    rule = to_rule(tenant.name, detail)
    if what == (rule in tenant.rules):  # adding a present rule or removing an absent one is refused
        return
    runtime.admin.change(actor, [RuleOp(Op.ADD if what else Op.REMOVE, rule)], reason="property test")
    (tenant.rules.add if what else tenant.rules.discard)(rule)


# --- what each caller sees -----------------------------------------------------------------------


def check_caller(client: TestClient, tenant: Tenant, other: Tenant, user: str) -> None:
    headers = bearer(tenant.tokens[user])
    if user in tenant.revoked:
        for response in (
            client.post("/v1/search", json={"query": "widget"}, headers=headers),
            client.get("/v1/documents", headers=headers),
        ):
            assert response.status_code == 401, response.text
        return

    def readable(labels: tuple[str, ...]) -> bool:
        return may_read(tenant.rules, user, labels)

    check_search(client, headers, tenant, readable)
    check_documents(client, headers, tenant, other, readable)
    for job_id, labels in [*tenant.jobs.items(), *other.jobs.items()]:
        response = client.get(f"/v1/ingest/jobs/{job_id}", headers=headers)
        visible = job_id in tenant.jobs and readable(labels)
        assert response.status_code == (200 if visible else 404), (job_id, response.text)


Readable = Callable[[tuple[str, ...]], bool]


def check_search(client: TestClient, headers: dict[str, str], tenant: Tenant, readable: Readable) -> None:
    """Top-k over permitted chunks only: a dense search with room for everything finds exactly the
    readable current versions, a hybrid one a subset; each hit carries its own version's marker. The
    listing shows the documents whose current version is readable."""
    current = {
        (doc, v): meta
        for doc, held in tenant.versions.items()
        for v, meta in held.items()
        if v == tenant.current(doc)
    }
    expected = {key for key, (labels, _) in current.items() if readable(labels)}
    for mode in ("dense", "hybrid"):
        response = client.post(
            "/v1/search", json={"query": "shared widget report", "k": 100, "mode": mode}, headers=headers
        )
        assert response.status_code == 200, response.text
        hits = response.json()["hits"]
        found = {(h["doc_id"], h["version"]) for h in hits}
        assert found == expected if mode == "dense" else found <= expected, (mode, found, expected)
        for hit in hits:
            labels, marker = current[(hit["doc_id"], hit["version"])]
            assert marker in hit["text"] and tuple(hit["labels"]) == labels

    listing = client.get("/v1/documents", headers=headers)
    assert listing.status_code == 200, listing.text
    assert {d["doc_id"] for d in listing.json()["documents"]} == {doc for doc, _ in expected}
    assert listing.json()["total"] == len(expected)


def check_documents(
    client: TestClient, headers: dict[str, str], tenant: Tenant, other: Tenant, readable: Readable
) -> None:
    """Provenance and text, version by version; the other tenant uses the same document ids, and they
    must never resolve to its documents."""
    for doc in DOCS:
        versions = {v for v, (labels, _) in tenant.versions.get(doc, {}).items() if readable(labels)}
        response = client.get(f"/v1/documents/{doc}", headers=headers)
        assert response.status_code == (200 if versions else 404), response.text
        if versions:
            shown = response.json()["versions"]
            assert {v["version"] for v in shown} == versions
            assert all(tuple(v["labels"]) == tenant.versions[doc][v["version"]][0] for v in shown)
        newest = max(len(tenant.versions.get(doc, {})), len(other.versions.get(doc, {})))
        for version in range(1, newest + 1):
            response = client.get(f"/v1/documents/{doc}/versions/{version}/text", headers=headers)
            assert response.status_code == (200 if version in versions else 404), response.text
            if version in versions:
                assert tenant.versions[doc][version][1] in response.json()["text"]


def check_everyone(client: TestClient, tenants: list[Tenant]) -> None:
    for index, tenant in enumerate(tenants):
        check_reference_against_casbin(tenant.rules, tenant.name)
        for user in USERS:
            check_caller(client, tenant, tenants[1 - index], user)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rules=st.lists(st.tuples(st.integers(0, 1), st.one_of(permission_specs, assignment_specs)), max_size=12),
    jobs=st.lists(job_specs, min_size=1, max_size=4),
    edits=st.lists(st.lists(edit_specs, min_size=1, max_size=3), max_size=2),
)
def test_no_endpoint_shows_anything_outside_the_callers_tenant_and_grants(
    service: tuple[Runtime, TestClient],
    rules: list[tuple[int, tuple[Any, ...]]],
    jobs: list[tuple[int, tuple[str, ...], list[str]]],
    edits: list[list[tuple[Any, ...]]],
) -> None:
    runtime, client = service
    tenants = [new_tenant(runtime, 0), new_tenant(runtime, 1)]
    for index, spec in rules:
        edit(runtime, tenants[index], (index, True, spec))
    for number, (index, labels, docs) in enumerate(jobs):
        ingest(client, tenants[index], number, labels, docs)
    check_everyone(client, tenants)
    for batch in edits:  # policy edits and revocations between requests take effect on the next one
        for spec in batch:
            edit(runtime, tenants[spec[0]], spec)
        check_everyone(client, tenants)
