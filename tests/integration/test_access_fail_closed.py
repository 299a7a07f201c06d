"""When the policy cannot be read or evaluated, requests fail closed: a 503 problem, counted, no results.

Failures are injected where they happen in production: the version source (database or Redis), the
first load of a tenant's rules, and the catch-up after a change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from acl.admin import Actor
from acl.policies import Op, RuleOp
from acl.rules import Action, Permission
from acl.versions import RedisVersions
from api.runtime import Runtime
from core.types import TenantId

ACME = TenantId("acme")
ADMIN = Actor(ACME, "test")
PROBLEM = "application/problem+json"


def failures() -> float:
    return REGISTRY.get_sample_value("tessera_acl_fail_closed_total") or 0.0


def headers_for(runtime: Runtime, user: str = "ann", roles: tuple[str, ...] = ("admin",)) -> dict[str, str]:
    return {"Authorization": f"Bearer {runtime.admin.issue_key(ADMIN, user, roles=roles).token}"}


def ingest(client: TestClient, headers: dict[str, str]) -> None:
    body = {"records": [{"id": "pay", "text": "Salary bands."}], "labels": ["hr"]}
    accepted = client.post("/v1/ingest/jobs", json=body, headers=headers)
    assert accepted.status_code == 202, accepted.text
    for _ in range(200):
        if client.get(accepted.json()["href"], headers=headers).json()["status"] == "succeeded":
            return
    raise AssertionError("ingest did not finish")


def assert_fails_closed(client: TestClient, headers: dict[str, str]) -> None:
    """Every reading endpoint answers 503 problem+json with nothing of the tenant in it, and each
    refusal is counted once."""
    before = failures()
    responses = [
        client.post("/v1/search", json={"query": "salary"}, headers=headers),
        client.get("/v1/documents", headers=headers),
        client.get("/v1/documents/pay", headers=headers),
        client.get("/v1/documents/pay/versions/1/text", headers=headers),
    ]
    for response in responses:
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == PROBLEM
        body = response.json()
        assert body["status"] == 503 and body["title"] == "Access policy unavailable"
        assert "hits" not in body and "documents" not in body and "Salary" not in response.text
    assert failures() == before + len(responses)


@contextmanager
def table_away(runtime: Runtime, table: str) -> Iterator[None]:
    """The table is unreadable for a while, as during a failed migration or a broken replica."""
    with runtime.engine.begin() as connection:
        connection.execute(sa.text(f"ALTER TABLE {table} RENAME TO {table}_away"))
    try:
        yield
    finally:
        with runtime.engine.begin() as connection:
            connection.execute(sa.text(f"ALTER TABLE {table}_away RENAME TO {table}"))


class BrokenVersions:
    def current(self, tenant: TenantId) -> int:
        raise RuntimeError("version source down")

    def announce(self, tenant: TenantId, version: int) -> None:
        raise RuntimeError("version source down")

    def published(self, tenant: TenantId, version: int) -> None:
        """Never reached."""

    def close(self) -> None:
        """Nothing held."""


def test_a_failing_version_source_fails_every_request_closed(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = headers_for(runtime)
    ingest(client, headers)
    assert client.post("/v1/search", json={"query": "salary"}, headers=headers).status_code == 200
    monkeypatch.setattr(runtime.access, "versions", BrokenVersions())
    assert_fails_closed(client, headers)
    monkeypatch.undo()
    assert client.post("/v1/search", json={"query": "salary"}, headers=headers).json()["hits"]


def test_an_unreachable_redis_fails_every_request_closed(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = headers_for(runtime)
    ingest(client, headers)
    unreachable = RedisVersions(runtime.engine, "redis://127.0.0.1:1/0")  # nothing listens on port 1
    monkeypatch.setattr(runtime.access, "versions", unreachable)
    try:
        assert_fails_closed(client, headers)
    finally:
        unreachable.close()


def test_rules_that_cannot_be_loaded_fail_closed(client: TestClient, runtime: Runtime) -> None:
    headers = headers_for(runtime)
    ingest(client, headers)
    fresh = headers_for(runtime, "bob", ())  # the key check works; the tenant's rules are not loaded yet
    runtime.access._policies.clear()
    with table_away(runtime, "casbin_rule"):
        assert_fails_closed(client, fresh)
    assert client.get("/v1/documents/pay", headers=fresh).status_code == 404  # bob is a member only
    assert client.get("/v1/documents/pay", headers=headers).status_code == 200


def test_a_change_that_cannot_be_replayed_fails_closed(client: TestClient, runtime: Runtime) -> None:
    headers = headers_for(runtime)
    reader = headers_for(runtime, "bob", ())
    ingest(client, headers)
    assert client.get("/v1/documents/pay", headers=reader).status_code == 404
    runtime.admin.change(ADMIN, [RuleOp(Op.ADD, Permission("bob", ACME, "hr", Action.READ))], reason="x")
    with table_away(runtime, "policy_changes"):
        assert_fails_closed(client, reader)
    assert client.get("/v1/documents/pay", headers=reader).status_code == 200
