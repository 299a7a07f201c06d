"""What a hostile caller tries against access control, each refused cleanly (4xx problem, nothing changed)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.runtime import Runtime
from tests.integration.test_admin_api import change, rule
from tests.integration.test_api import PROBLEM, ingest_records, key


def test_reserved_names_and_label_patterns_are_refused(client: TestClient, runtime: Runtime) -> None:
    admin = key(runtime, "acme", ("admin",), "ann")
    for labels in (["audit"], ["tool:refund"], ["admin:keys"]):
        response = client.post(
            "/v1/ingest/jobs", json={"records": [{"id": "x", "text": "t"}], "labels": labels}, headers=admin
        )
        assert response.status_code == 400 and response.headers["content-type"] == PROBLEM, response.text
    for obj in ("eng-*", "*hr", "tool:refund*"):
        response = client.post(
            "/v1/admin/policies", json={"add": [rule("eng", obj)], "reason": "x"}, headers=admin
        )
        assert response.status_code in (400, 422), (obj, response.text)
    before = client.get("/v1/admin/policies", headers=admin).json()["policy_version"]
    assert client.get("/v1/admin/policies", headers=admin).json()["policy_version"] == before


def test_a_deny_on_everything_leaves_nothing_readable_even_for_an_admin(
    client: TestClient, runtime: Runtime
) -> None:
    admin, auditor_admin = key(runtime, "acme", ("admin",), "ann"), key(runtime, "acme", ("admin",), "ada")
    ingest_records(client, admin, [{"id": "faq", "text": "pumps and valves"}])
    change(client, admin, "/v1/admin/policies", add=[rule("ada", "*", "read", "deny")], reason="suspended")
    assert client.post("/v1/search", json={"query": "pumps"}, headers=auditor_admin).json()["hits"] == []
    assert client.get("/v1/documents/faq", headers=auditor_admin).status_code == 404
    assert client.get("/v1/documents", headers=auditor_admin).json()["documents"] == []
    assert client.post("/v1/search", json={"query": "pumps"}, headers=admin).json()["hits"] != []


def test_an_admin_who_revokes_their_own_key_is_refused_on_the_next_request(
    client: TestClient, runtime: Runtime
) -> None:
    admin = key(runtime, "acme", ("admin",), "ann")
    keys = client.get("/v1/admin/keys", headers=admin).json()
    own = next(k["key_id"] for k in keys["keys"] if k["user"] == "ann")
    assert client.delete(f"/v1/admin/keys/{own}", headers=admin).status_code in (200, 204)
    refused = client.get("/v1/documents", headers=admin)
    assert refused.status_code == 401 and refused.headers["content-type"] == PROBLEM


def test_rules_for_another_tenant_cannot_be_written_through_the_body(
    client: TestClient, runtime: Runtime
) -> None:
    admin = key(runtime, "acme", ("admin",), "ann")
    other = key(runtime, "globex", ("admin",), "gus")
    csv = "p, eve, globex, *, read, allow\n"
    response = client.post(
        "/v1/admin/policies/import", content=csv, headers={**admin, "content-type": "text/csv"}
    )
    assert response.status_code == 400 and "line 1" in response.json()["detail"]
    exported = client.get("/v1/admin/policies/export", headers=other).text
    assert "eve" not in exported
