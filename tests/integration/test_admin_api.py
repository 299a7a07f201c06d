"""The admin API (/v1/admin) end to end through TestClient, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.runtime import Runtime
from tests.integration.test_api import PROBLEM, ingest_records, key

Headers = dict[str, str]


@pytest.fixture
def admin(runtime: Runtime) -> Headers:
    return key(runtime, "acme", ("admin",), "ann")


def hr_corpus(client: TestClient, admin: Headers) -> None:
    """Two HR documents, one public, one finance."""
    ingest_records(
        client,
        admin,
        [{"id": "hr/bands", "text": "salary bands"}, {"id": "hr/reviews", "text": "reviews"}],
        labels=["hr"],
    )
    ingest_records(client, admin, [{"id": "handbook", "text": "welcome aboard"}])
    ingest_records(client, admin, [{"id": "budget", "text": "the budget"}], labels=["finance"])


def rule(subject: str, obj: str, action: str = "read", effect: str = "allow") -> dict[str, str]:
    return {"subject": subject, "object": obj, "action": action, "effect": effect}


def change(client: TestClient, headers: Headers, path: str, **body: Any) -> dict[str, Any]:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def visible(client: TestClient, headers: Headers) -> set[str]:
    response = client.get("/v1/documents", headers=headers)
    assert response.status_code == 200, response.text
    return {d["doc_id"] for d in response.json()["documents"]}


def give_hr_to_bob(client: TestClient, admin: Headers) -> None:
    """bob → hr-staff → hr, and hr reads the hr label."""
    change(client, admin, "/v1/admin/policies", add=[rule("hr", "hr")], reason="hr reads hr")
    change(
        client,
        admin,
        "/v1/admin/roles",
        add=[{"member": "hr-staff", "role": "hr"}, {"member": "bob", "role": "hr-staff"}],
    )


def test_rules_are_listed_added_removed_and_each_change_is_a_version(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    listed = client.get("/v1/admin/policies", headers=admin).json()
    first = listed["policy_version"]
    assert rule("member", "public") in listed["rules"]
    assert all(r["subject"] != "x" for r in listed["rules"])

    added = change(client, admin, "/v1/admin/policies", add=[rule("hr", "hr")], reason="hr reads hr")
    assert added["version"] == first + 1 and added["actor"] == "ann" and added["reason"] == "hr reads hr"
    assert added["added"]["rules"] == [rule("hr", "hr")] and added["removed"] == {"rules": [], "roles": []}
    only_hr = client.get("/v1/admin/policies", params={"subject": "hr"}, headers=admin).json()
    assert only_hr["rules"] == [rule("hr", "hr")] and only_hr["policy_version"] == first + 1

    paged = client.get("/v1/admin/policies", params={"limit": 2, "offset": 1}, headers=admin).json()
    everything = client.get("/v1/admin/policies", headers=admin).json()
    assert paged["rules"] == everything["rules"][1:3] and paged["total"] == everything["total"]

    removed = change(client, admin, "/v1/admin/policies", remove=[rule("hr", "hr")])
    assert removed["version"] == first + 2 and removed["removed"]["rules"] == [rule("hr", "hr")]


def test_bad_rule_changes_are_problems_and_change_nothing(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    version = client.get("/v1/admin/policies", headers=admin).json()["policy_version"]
    cases = [
        ({"add": [rule("hr", "hr", action="fly")]}, 422),  # the schema knows the actions
        ({"add": [rule("hr", "Bad Label")]}, 400),
        ({"add": [{**rule("hr", "hr"), "tenant": "other"}]}, 422),  # no field for another tenant
        ({"add": [rule("member", "public")]}, 409),  # already there
        ({"remove": [rule("nobody", "hr")]}, 404),
        ({"add": [rule("hr", "hr"), rule("hr", "hr")]}, 409),
        ({}, 400),
    ]
    for body, status in cases:
        response = client.post("/v1/admin/policies", json=body, headers=admin)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"] == PROBLEM
    bad = client.post("/v1/admin/policies", json={"add": [rule("hr", "hr"), rule("x", "BAD")]}, headers=admin)
    assert "add[1]" in bad.json()["detail"]
    assert client.get("/v1/admin/policies", headers=admin).json()["policy_version"] == version
    assert client.get("/v1/admin/policies", params={"subject": "hr"}, headers=admin).json()["rules"] == []


def test_roles_list_assign_unassign(client: TestClient, runtime: Runtime, admin: Headers) -> None:
    key(runtime, "acme", (), "bob")
    give_hr_to_bob(client, admin)
    listed = client.get("/v1/admin/roles", headers=admin).json()
    assert {"member": "bob", "role": "hr-staff"} in listed["assignments"]
    assert {"member": "ann", "role": "admin"} in listed["assignments"]
    assert {"admin", "auditor", "member", "ingest", "hr", "hr-staff"} <= set(listed["roles"])
    assert not {"ann", "bob"} & set(listed["roles"])
    bobs = client.get("/v1/admin/roles", params={"member": "bob"}, headers=admin).json()
    assert {a["role"] for a in bobs["assignments"]} == {"member", "hr-staff"}
    of_hr = client.get("/v1/admin/roles", params={"role": "hr"}, headers=admin).json()
    assert of_hr["assignments"] == [{"member": "hr-staff", "role": "hr"}]

    gone = change(client, admin, "/v1/admin/roles", remove=[{"member": "bob", "role": "hr-staff"}])
    assert gone["kind"] == "roles" and gone["removed"]["roles"] == [{"member": "bob", "role": "hr-staff"}]
    self_member = client.post("/v1/admin/roles", json={"add": [{"member": "x", "role": "x"}]}, headers=admin)
    assert self_member.status_code == 400 and "itself" in self_member.json()["detail"]


def test_hr_documents_are_visible_to_hr_only_and_the_next_request_sees_every_change(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    hr_corpus(client, admin)
    bob = key(runtime, "acme", (), "bob")
    assert visible(client, bob) == {"handbook"}
    give_hr_to_bob(client, admin)
    assert visible(client, bob) == {"handbook", "hr/bands", "hr/reviews"}
    change(client, admin, "/v1/admin/policies", add=[rule("bob", "hr", effect="deny")], reason="on leave")
    assert visible(client, bob) == {"handbook"}
    hits = client.post("/v1/search", json={"query": "salary bands"}, headers=bob).json()["hits"]
    assert all("hr" not in h["labels"] for h in hits)


def test_explain_gives_the_role_path_and_the_deny(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    hr_corpus(client, admin)
    key(runtime, "acme", (), "bob")
    give_hr_to_bob(client, admin)
    by_label = change(client, admin, "/v1/admin/explain", user="bob", label="hr", action="read")
    assert by_label["allowed"] is True
    [verdict] = by_label["labels"]
    [match] = verdict["matches"]
    assert match["path"] == ["bob", "hr-staff", "hr"]
    assert match["text"] == "bob → hr-staff → hr: read hr (p, hr, acme, hr, read, allow)"
    assert by_label["decision"] == f"bob may read 'hr': {match['text']}"

    by_doc = change(client, admin, "/v1/admin/explain", user="bob", doc_id="hr/bands")
    assert by_doc["allowed"] and by_doc["doc_id"] == "hr/bands" and by_doc["doc_version"] == 1
    hits = client.post("/v1/search", json={"query": "salary bands"}, headers=admin).json()["hits"]
    chunk_id = next(h["chunk_id"] for h in hits if h["doc_id"] == "hr/bands")
    by_chunk = change(client, admin, "/v1/admin/explain", user="bob", chunk_id=chunk_id)
    assert by_chunk["allowed"] and by_chunk["doc_id"] == "hr/bands"

    change(client, admin, "/v1/admin/policies", add=[rule("hr-staff", "hr", effect="deny")])
    denied = change(client, admin, "/v1/admin/explain", user="bob", doc_id="hr/bands")
    assert denied["allowed"] is False
    texts = [m["text"] for m in denied["labels"][0]["matches"]]
    assert texts[0] == "bob → hr-staff: deny read hr (p, hr-staff, acme, hr, read, deny)"  # denies first
    assert "bob may not read document 'hr/bands'" in denied["decision"]
    assert "deny read hr" in denied["decision"]
    nobody = change(client, admin, "/v1/admin/explain", user="carol", label="finance")
    assert not nobody["allowed"] and nobody["decision"].endswith("(default deny)")
    writes = change(client, admin, "/v1/admin/explain", user="ann", doc_id="budget", action="write")
    assert writes["allowed"] and "ann → admin: write *" in writes["decision"]


def test_explain_input_and_other_tenants_documents(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    other = key(runtime, "globex", ("admin",), "zed")
    ingest_records(client, other, [{"id": "secret", "text": "globex secret"}], labels=["hr"])
    for body in ({"user": "bob", "doc_id": "secret"}, {"user": "bob", "chunk_id": "secret#v1#c0"}):
        missing = client.post("/v1/admin/explain", json=body, headers=admin)
        assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    both = client.post("/v1/admin/explain", json={"user": "b", "doc_id": "a", "label": "hr"}, headers=admin)
    assert both.status_code == 422 and "exactly one" in both.json()["detail"]
    bad_user = client.post("/v1/admin/explain", json={"user": "b c", "label": "hr"}, headers=admin)
    assert bad_user.status_code == 400


def test_another_tenants_policy_keys_and_history_are_invisible(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    other = key(runtime, "globex", ("admin",), "zed")
    change(client, other, "/v1/admin/policies", add=[rule("globex-only", "secret")], reason="globex")
    for path in ("/v1/admin/policies", "/v1/admin/roles", "/v1/admin/policies/history", "/v1/admin/keys"):
        text = client.get(path, headers=admin).text
        assert "globex" not in text and "zed" not in text, path
    assert "globex" not in client.get("/v1/admin/policies/export", headers=admin).text
    zeds_key = client.get("/v1/admin/keys", headers=other).json()["keys"][0]["key_id"]
    assert client.delete(f"/v1/admin/keys/{zeds_key}", headers=admin).status_code == 404
    own_tenant_only = client.post(
        "/v1/admin/policies/import", content=b"p, x, globex, hr, read\n", headers=_csv(admin)
    )
    assert own_tenant_only.status_code == 400 and "line 1" in own_tenant_only.json()["detail"]


def _csv(headers: Headers) -> Headers:
    return {**headers, "Content-Type": "text/csv"}


def test_export_then_import_round_trips_and_a_bad_import_changes_nothing(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    give_hr_to_bob(client, admin)
    exported = client.get("/v1/admin/policies/export", headers=admin)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "p, hr, acme, hr, read, allow\n" in exported.text
    assert "g, bob, hr-staff, acme\n" in exported.text
    version = client.get("/v1/admin/policies", headers=admin).json()["policy_version"]

    bad_lines = [
        ("p, hr, acme, hr, read\np, hr, acme, hr, fly\n", "line 2: action must be one of"),
        ('p, hr, acme, "hr\n', "line 1: malformed CSV"),
        ("# comment\np, hr, globex, hr, read\n", "line 2: rules may only name your own tenant"),
        ("x, y\n", "line 1: a rule starts with 'p' or 'g'"),
        ("", "the CSV holds no rules"),
    ]
    for text, message in bad_lines:
        response = client.post("/v1/admin/policies/import", content=text.encode(), headers=_csv(admin))
        assert response.status_code == 400, (text, response.text)
        assert message in response.json()["detail"]
    wrong_type = client.post("/v1/admin/policies/import", content=b"p, a", headers=admin)
    assert wrong_type.status_code == 415
    assert client.get("/v1/admin/policies", headers=admin).json()["policy_version"] == version
    assert client.get("/v1/admin/policies/export", headers=admin).text == exported.text

    trimmed = (
        exported.text.replace("g, bob, hr-staff, acme\n", "") + "p, auditor, acme, finance, read, allow\n"
    )
    imported = client.post(
        "/v1/admin/policies/import", params={"reason": "trim"}, content=trimmed, headers=_csv(admin)
    )
    assert imported.status_code == 200, imported.text
    body = imported.json()
    assert body["kind"] == "import" and body["reason"] == "trim" and body["version"] == version + 1
    assert body["removed"]["roles"] == [{"member": "bob", "role": "hr-staff"}]
    assert body["added"]["rules"] == [rule("auditor", "finance")]
    again = client.get("/v1/admin/policies/export", headers=admin).text
    assert sorted(again.splitlines()) == sorted(trimmed.splitlines())


def test_history_pages_and_revert_restores(client: TestClient, runtime: Runtime, admin: Headers) -> None:
    hr_corpus(client, admin)
    bob = key(runtime, "acme", (), "bob")
    give_hr_to_bob(client, admin)
    before = client.get("/v1/admin/policies/export", headers=admin).text
    good = client.get("/v1/admin/policies", headers=admin).json()["policy_version"]
    change(client, admin, "/v1/admin/roles", remove=[{"member": "bob", "role": "hr-staff"}], reason="oops")
    change(client, admin, "/v1/admin/policies", add=[rule("bob", "hr", effect="deny")], reason="oops 2")
    assert visible(client, bob) == {"handbook"}

    history = client.get("/v1/admin/policies/history", params={"limit": 2}, headers=admin).json()
    newest, second = history["changes"]
    assert (newest["version"], newest["reason"], newest["actor"]) == (good + 2, "oops 2", "ann")
    assert newest["added"]["rules"] == [rule("bob", "hr", effect="deny")]
    assert second["removed"]["roles"] == [{"member": "bob", "role": "hr-staff"}]
    assert history["next_before"] == good + 1
    rest = client.get(
        "/v1/admin/policies/history", params={"before": history["next_before"]}, headers=admin
    ).json()
    assert [c["version"] for c in rest["changes"]] == list(range(good, 0, -1))
    assert rest["next_before"] is None and rest["changes"][-1]["kind"] == "tenant-created"

    reverted = change(client, admin, "/v1/admin/policies/revert", version=good, reason="undo")
    assert reverted["kind"] == "revert" and reverted["version"] == good + 3
    assert reverted["added"]["roles"] == [{"member": "bob", "role": "hr-staff"}]
    assert reverted["removed"]["rules"] == [rule("bob", "hr", effect="deny")]
    assert client.get("/v1/admin/policies/export", headers=admin).text == before
    assert visible(client, bob) == {"handbook", "hr/bands", "hr/reviews"}
    future = client.post("/v1/admin/policies/revert", json={"version": good + 3}, headers=admin)
    assert future.status_code == 400 and f"between 1 and {good + 2}" in future.json()["detail"]


def test_dry_run_reports_gains_and_losses_and_changes_nothing(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    hr_corpus(client, admin)
    bob = key(runtime, "acme", (), "bob")
    key(runtime, "acme", (), "carol")
    give_hr_to_bob(client, admin)
    exported = client.get("/v1/admin/policies/export", headers=admin).text
    version = client.get("/v1/admin/policies", headers=admin).json()["policy_version"]
    proposal = {
        "add": {"rules": [rule("bob", "hr", effect="deny")], "roles": [{"member": "carol", "role": "hr"}]},
        "remove": {"rules": [rule("member", "public")]},
        "examples": 1,
    }
    run = change(client, admin, "/v1/admin/policies/dry-run", **proposal)
    assert run["policy_version"] == version and run["documents"] == 4
    by_user = {u["user"]: u for u in run["users"]}
    assert by_user["bob"] == {
        "user": "bob",
        "gained": 0,
        "lost": 3,
        "gained_examples": [],
        "lost_examples": ["handbook"],
    }
    assert by_user["carol"]["gained"] == 2 and by_user["carol"]["lost"] == 1
    assert by_user["carol"]["gained_examples"] == ["hr/bands"]
    assert "ann" not in by_user  # admin reads everything either way
    assert run["users_changed"] == 2 and run["users_checked"] >= 3
    assert (run["documents_gained"], run["documents_lost"]) == (2, 4)
    one = change(client, admin, "/v1/admin/policies/dry-run", **{**proposal, "limit": 1})
    assert [u["user"] for u in one["users"]] == ["bob"] and one["users_changed"] == 2

    # Nothing changed: the same version, rules and visibility.
    assert client.get("/v1/admin/policies", headers=admin).json()["policy_version"] == version
    assert client.get("/v1/admin/policies/export", headers=admin).text == exported
    assert visible(client, bob) == {"handbook", "hr/bands", "hr/reviews"}
    conflict = client.post(
        "/v1/admin/policies/dry-run", json={"add": {"rules": [rule("hr", "hr")]}}, headers=admin
    )
    assert conflict.status_code == 409 and "already exists" in conflict.json()["detail"]
    empty = client.post("/v1/admin/policies/dry-run", json={}, headers=admin)
    assert empty.status_code == 400


def test_keys_are_created_listed_and_revoked(client: TestClient, runtime: Runtime, admin: Headers) -> None:
    created = client.post(
        "/v1/admin/keys",
        json={"user": "dave", "roles": ["hr"], "expires_at": "2999-01-01T00:00:00Z"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    token, key_id = body["token"], body["key_id"]
    assert body["user"] == "dave" and body["expires_at"].startswith("2999-01-01")
    dave = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/documents", headers=dave).status_code == 200

    listed = client.get("/v1/admin/keys", headers=admin)
    assert token not in listed.text and "secret" not in listed.text
    [row] = [k for k in listed.json()["keys"] if k["key_id"] == key_id]
    assert row["revoked_at"] is None
    roles = client.get("/v1/admin/roles", params={"member": "dave"}, headers=admin).json()
    assert {a["role"] for a in roles["assignments"]} == {"member", "hr"}

    revoked = client.delete(f"/v1/admin/keys/{key_id}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert client.get("/v1/documents", headers=dave).status_code == 401
    assert client.delete("/v1/admin/keys/0123456789abcdef", headers=admin).status_code == 404
    past = client.post(
        "/v1/admin/keys", json={"user": "e", "expires_at": "2000-01-01T00:00:00Z"}, headers=admin
    )
    assert past.status_code == 400 and "future" in past.json()["detail"]


def test_non_admins_get_403_on_every_admin_route(client: TestClient, runtime: Runtime) -> None:
    member = key(runtime, "acme", ("hr", "ingest"), "bob")
    routes: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/v1/admin/policies", {}),
        ("POST", "/v1/admin/policies", {"json": {"add": [rule("bob", "*")]}}),
        ("GET", "/v1/admin/policies/export", {}),
        ("POST", "/v1/admin/policies/import", {"content": b"p, bob, acme, *, read\n"}),
        ("GET", "/v1/admin/policies/history", {}),
        ("POST", "/v1/admin/policies/revert", {"json": {"version": 1}}),
        ("POST", "/v1/admin/policies/dry-run", {"json": {"add": {"rules": [rule("bob", "*")]}}}),
        ("GET", "/v1/admin/roles", {}),
        ("POST", "/v1/admin/roles", {"json": {"add": [{"member": "bob", "role": "admin"}]}}),
        ("POST", "/v1/admin/explain", {"json": {"user": "bob", "label": "hr"}}),
        ("GET", "/v1/admin/keys", {}),
        ("POST", "/v1/admin/keys", {"json": {"user": "bob", "roles": ["admin"]}}),
        ("DELETE", "/v1/admin/keys/0123456789abcdef", {}),
    ]
    for method, path, kwargs in routes:
        response = client.request(method, path, headers=_csv(member), **kwargs)
        assert response.status_code == 403, (method, path, response.text)
        assert response.headers["content-type"] == PROBLEM
    assert client.get("/v1/admin/policies").status_code == 401


def test_a_policy_reader_may_list_and_explain_but_not_change(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    key(runtime, "acme", (), "rita")
    change(client, admin, "/v1/admin/policies", add=[rule("rita", "admin:policies")])
    rita = key(runtime, "acme", (), "rita")
    assert client.get("/v1/admin/policies", headers=rita).status_code == 200
    assert client.post("/v1/admin/explain", json={"user": "ann", "label": "hr"}, headers=rita).json()[
        "allowed"
    ]
    assert (
        client.post("/v1/admin/policies", json={"add": [rule("rita", "*")]}, headers=rita).status_code == 403
    )
    assert client.get("/v1/admin/keys", headers=rita).status_code == 403
