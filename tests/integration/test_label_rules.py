"""Writing and reading respect every version's labels, over REST, the pipeline and the CLI, on both databases.

The rules under test: overwriting or deleting needs write permission over the existing document's labels;
what a caller may not read answers exactly like what does not exist (document, version, job); each
version is shown only to readers of its own labels.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from acl.admin import Actor
from acl.filters import WriteGrant
from api.cli import app as cli_app
from api.runtime import Runtime
from core.access import AccessFilter
from core.settings import get_settings
from core.types import TenantId
from ingest.models import ItemStatus
from ingest.pipeline import ItemOutcome
from retrieval.search import SearchRequest
from tests.conftest import RuntimeFactory
from tests.integration.test_api import PROBLEM, ingest_records, key
from tests.support.policy import legacy, may_write, write_grant
from tests.support.records import record

T = TenantId("acme")
OPERATOR = WriteGrant.everything(T)
WRITER_ROLES = ("ingest", "eng")


def problem(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    detail: str = response.json()["detail"]
    return detail


def test_an_ingest_key_cannot_overwrite_a_document_labelled_beyond_it(
    client: TestClient, runtime: Runtime
) -> None:
    admin, writer = key(runtime), key(runtime, roles=WRITER_ROLES, user="ivy")
    ingest_records(client, admin, [{"id": "bands", "text": "salary bands for engineers"}], labels=["hr"])
    job = ingest_records(
        client,
        writer,
        [{"id": "bands", "text": "nothing to see here"}, {"id": "fresh", "text": "a new public note"}],
        labels=["public"],
    )
    refused, fresh = job["items"]
    assert refused == {
        "position": 0,
        "name": "records[0]",
        "status": "failed",
        "doc_id": "bands",
        "version": None,
        "chunks": 0,
        "error": "the key may not write document 'bands'",
    }
    assert fresh["status"] == "indexed"  # the same job's writable items go on
    kept = client.get("/v1/documents/bands", headers=admin).json()
    assert kept["current_version"] == 1 and [v["labels"] for v in kept["versions"]] == [["hr"]]
    stored = client.get("/v1/documents/bands/versions/1/text", headers=admin).json()["text"]
    assert stored == "salary bands for engineers"
    hits = client.post("/v1/search", json={"query": "nothing to see here"}, headers=admin).json()["hits"]
    assert "nothing to see here" not in {h["text"] for h in hits}


def test_a_writer_may_overwrite_what_it_may_write(client: TestClient, runtime: Runtime) -> None:
    admin, writer = key(runtime), key(runtime, roles=WRITER_ROLES, user="ivy")
    ingest_records(client, admin, [{"id": "notes", "text": "first draft"}], labels=["eng"])
    [item] = ingest_records(client, writer, [{"id": "notes", "text": "second draft"}], labels=["eng"])[
        "items"
    ]
    assert item["status"] == "indexed" and item["version"] == 2


def test_each_version_is_shown_only_to_readers_of_its_labels(client: TestClient, runtime: Runtime) -> None:
    admin, staff = key(runtime), key(runtime, roles=("staff",), user="sam")
    secret = {
        "id": "plan",
        "title": "Layoffs 2027",
        "text": "cut the robotics team",
        "metadata": {"by": "cfo"},
    }
    ingest_records(client, admin, [secret], labels=["hr"])
    ingest_records(client, admin, [{"id": "plan", "title": "Plan", "text": "the public plan"}])
    response = client.get("/v1/documents/plan", headers=staff)
    shown = response.json()
    assert [v["version"] for v in shown["versions"]] == [2]
    assert shown["current_version"] == 2 and shown["title"] == "Plan"
    assert "Layoffs" not in response.text and "cfo" not in response.text
    hidden = problem(client.get("/v1/documents/plan/versions/1/text", headers=staff), 404)
    missing = problem(client.get("/v1/documents/plan/versions/9/text", headers=staff), 404)
    assert hidden == "document 'plan' has no version 1" and missing == "document 'plan' has no version 9"
    both = client.get("/v1/documents/plan", headers=admin).json()
    assert [v["version"] for v in both["versions"]] == [1, 2]


def test_a_readable_old_version_stays_visible_under_an_unreadable_current_one(
    client: TestClient, runtime: Runtime
) -> None:
    admin, staff = key(runtime), key(runtime, roles=("staff",), user="sam")
    ingest_records(client, admin, [{"id": "memo", "title": "Memo", "text": "lunch is at noon"}])
    ingest_records(client, admin, [{"id": "memo", "title": "Reorg", "text": "the reorg list"}], labels=["hr"])
    response = client.get("/v1/documents/memo", headers=staff)
    shown = response.json()
    # Searches serve this reader nothing of the document now, so no version is current for it.
    assert shown["current_version"] is None and shown["title"] == "Memo"
    assert [v["version"] for v in shown["versions"]] == [1] and "Reorg" not in response.text
    assert problem(client.get("/v1/documents/memo/versions/2/text", headers=staff), 404)


def test_a_document_without_a_readable_version_is_exactly_a_missing_one(
    client: TestClient, runtime: Runtime
) -> None:
    admin, staff = key(runtime), key(runtime, roles=("staff",), user="sam")
    ingest_records(client, admin, [{"id": "bands", "text": "salary bands"}], labels=["hr"])
    ingest_records(client, admin, [{"id": "bands", "text": "salary bands 2027"}], labels=["hr", "finance"])
    hidden = problem(client.get("/v1/documents/bands", headers=staff), 404)
    missing = problem(client.get("/v1/documents/nobody", headers=staff), 404)
    assert hidden.replace("bands", "nobody") == missing


def test_deleting_needs_write_permission_over_every_version(client: TestClient, runtime: Runtime) -> None:
    admin, writer = key(runtime), key(runtime, roles=WRITER_ROLES, user="ivy")
    staff = key(runtime, roles=("staff", "eng"), user="sam")
    ingest_records(client, admin, [{"id": "bands", "text": "salary bands"}], labels=["hr"])
    ingest_records(client, admin, [{"id": "mixed", "text": "was hr"}], labels=["hr"])
    ingest_records(client, admin, [{"id": "mixed", "text": "now eng"}], labels=["eng"])
    ingest_records(client, writer, [{"id": "mine", "text": "eng notes"}], labels=["eng"])

    # Unreadable: the same answer as for an id that does not exist.
    hidden = problem(client.delete("/v1/documents/bands", headers=writer), 404)
    assert hidden.replace("bands", "nobody") == problem(
        client.delete("/v1/documents/nobody", headers=writer), 404
    )
    # Readable now, but an older version carries a label the key may not write.
    assert "all its versions" in problem(client.delete("/v1/documents/mixed", headers=writer), 403)
    # A key that writes nothing is refused before anything is looked up.
    for doc_id in ("mine", "nobody"):
        assert "write permission" in problem(client.delete(f"/v1/documents/{doc_id}", headers=staff), 403)
    for doc_id in ("bands", "mixed", "mine"):
        assert client.get(f"/v1/documents/{doc_id}", headers=admin).status_code == 200

    assert client.delete("/v1/documents/mine", headers=writer).status_code == 204
    assert client.get("/v1/documents/mine", headers=admin).status_code == 404
    assert client.delete("/v1/documents/mixed", headers=admin).status_code == 204


def test_a_job_is_shown_only_to_readers_of_its_labels(client: TestClient, runtime: Runtime) -> None:
    admin, staff = key(runtime), key(runtime, roles=("staff",), user="sam")
    hr = key(runtime, roles=("hr",), user="hana")
    job = ingest_records(client, admin, [{"id": "bands", "text": "salary bands"}], labels=["hr"])
    href = f"/v1/ingest/jobs/{job['job_id']}"
    hidden = problem(client.get(href, headers=staff), 404)
    missing = problem(client.get("/v1/ingest/jobs/job_00000000000000000000", headers=staff), 404)
    assert hidden.replace(job["job_id"], "job_00000000000000000000") == missing
    assert client.get(href, headers=hr).json()["items"][0]["version"] == 1
    public = ingest_records(client, admin, [{"id": "faq", "text": "paid monthly"}])
    assert client.get(f"/v1/ingest/jobs/{public['job_id']}", headers=staff).status_code == 200


def test_the_unchanged_shortcut_answers_only_writers(make_runtime: RuntimeFactory, database_url: str) -> None:
    runtime = make_runtime(database_url=database_url)
    list(runtime.pipeline.run(T, [record("bands", "salary bands")], labels=["hr"], grant=OPERATOR))
    writer = write_grant(legacy(T, "ivy", WRITER_ROLES))
    [outcome] = runtime.pipeline.run(T, [record("bands", "salary bands")], labels=["hr"], grant=writer)
    assert outcome.status == ItemStatus.FAILED and outcome.version is None
    [again] = runtime.pipeline.run(T, [record("bands", "salary bands")], labels=["hr"], grant=OPERATOR)
    assert again.status == ItemStatus.UNCHANGED and again.version == 1


def test_the_pipeline_refuses_a_grant_of_another_tenant(
    make_runtime: RuntimeFactory, database_url: str
) -> None:
    runtime = make_runtime(database_url=database_url)
    [outcome] = runtime.pipeline.run(
        T, [record("x", "text")], grant=WriteGrant.everything(TenantId("globex"))
    )
    assert outcome.status == ItemStatus.FAILED
    assert runtime.documents.list(AccessFilter.everything(T), limit=10, offset=0) == (0, [])


LABELS = ["public", "hr", "finance", "eng"]
label_sets = st.sets(st.sampled_from(LABELS), min_size=1, max_size=3)
role_sets = st.sets(st.sampled_from([*LABELS, "ingest", "admin"]), max_size=4)


def _anonymous(outcome: ItemOutcome) -> ItemOutcome:
    """An outcome with the caller's own inputs (position, name, id) taken out: what is left is the answer."""
    error = (outcome.error or "").replace(repr(outcome.doc_id), "<id>")
    return replace(outcome, position=0, name="", doc_id=None, error=error)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(existing=label_sets, new=label_sets, roles=role_sets, same_text=st.booleans())
def test_an_overwrite_succeeds_iff_the_key_may_write_both_label_sets(
    runtime: Runtime, existing: set[str], new: set[str], roles: set[str], same_text: bool
) -> None:
    principal = legacy(T, "ivy", roles)
    doc_id = "doc-" + secrets.token_hex(4)
    list(runtime.pipeline.run(T, [record(doc_id, "the first text")], labels=sorted(existing), grant=OPERATOR))
    text = "the first text" if same_text else "a second text"
    grant = write_grant(principal)
    [outcome] = runtime.pipeline.run(T, [record(doc_id, text)], labels=sorted(new), grant=grant)

    if may_write(principal, existing) and may_write(principal, new):
        if same_text and new == existing:
            assert (outcome.status, outcome.version) == (ItemStatus.UNCHANGED, 1)
        else:
            assert (outcome.status, outcome.version) == (ItemStatus.INDEXED, 2)
        return
    # Refused: the answer equals the one for an id that does not exist, with labels the key may not write.
    unwritable = sorted(new) if not may_write(principal, new) else sorted(existing)
    [for_new_id] = runtime.pipeline.run(T, [record("new-" + doc_id, text)], labels=unwritable, grant=grant)
    assert outcome.status == ItemStatus.FAILED
    assert _anonymous(outcome) == _anonymous(for_new_id)
    current = runtime.documents.get(AccessFilter.everything(T), doc_id)
    assert current.current_version == 1 and [v.labels for v in current.versions] == [sorted(existing)]


def test_the_cli_applies_the_same_rules(
    make_runtime: RuntimeFactory, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = make_runtime(database_url=database_url, data_dir=tmp_path / "data")
    list(runtime.pipeline.run(T, [record("bands", "salary bands")], labels=["hr"], grant=OPERATOR))
    list(runtime.pipeline.run(T, [record("bands", "salary bands 2027")], labels=["public"], grant=OPERATOR))
    job_id = runtime.jobs.create(T, "ann", [record("pay", "pay days")], ("hr",))
    runtime.jobs.run(job_id, T, [record("pay", "pay days")], ("hr",), OPERATOR)
    # Users as the policy knows them: sam reads staff (and public), ivy also writes public.
    runtime.admin.issue_key(Actor(T, "test"), "sam", roles=("staff",))
    runtime.admin.issue_key(Actor(T, "test"), "ivy", roles=("ingest",))
    runtime.close()
    monkeypatch.setenv("TESSERA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TESSERA_DATABASE_URL", database_url)
    get_settings.cache_clear()
    cli = CliRunner()
    try:
        shown = cli.invoke(cli_app, ["documents", "show", "bands", "--tenant", "acme", "--as-user", "sam"])
        assert shown.exit_code == 0, shown.output
        assert '"version": 2' in shown.stdout and '"version": 1' not in shown.stdout
        text = cli.invoke(
            cli_app, ["documents", "text", "bands", "--version", "1", "--tenant", "acme", "--as-user", "sam"]
        )
        assert text.exit_code == 1 and text.stderr.strip() == "error: document 'bands' has no version 1"
        deleting = ["documents", "delete", "bands", "--tenant", "acme", "--as-user", "ivy"]
        refused = cli.invoke(cli_app, deleting)
        assert refused.exit_code == 1 and "all its versions" in refused.stderr
        job = cli.invoke(cli_app, ["jobs", "show", job_id, "--tenant", "acme", "--as-user", "sam"])
        assert job.exit_code == 1 and job.stderr.strip() == f"error: ingest job {job_id!r} not found"
        as_operator = cli.invoke(cli_app, ["jobs", "show", job_id, "--tenant", "acme"])
        assert as_operator.exit_code == 0 and "indexed" in as_operator.stdout
        assert cli.invoke(cli_app, ["documents", "delete", "bands", "--tenant", "acme"]).exit_code == 0
    finally:
        get_settings.cache_clear()


def test_a_relabel_between_planning_and_publishing_still_refuses_the_write(
    make_runtime: RuntimeFactory, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The eng writer's item is planned while the document is still eng; an admin relabels it hr before
    # the writer publishes. The check at publish (under the document's lock) must see the hr version.
    runtime = make_runtime(database_url=database_url)
    list(runtime.pipeline.run(T, [record("spec", "the eng spec")], labels=["eng"], grant=OPERATOR))
    versions = runtime.pipeline._versions
    allocate = versions.allocate

    def relabel_then_allocate(tenant: TenantId, doc_id: str) -> int:
        monkeypatch.setattr(versions, "allocate", allocate)
        list(runtime.pipeline.run(T, [record("spec", "now hr only")], labels=["hr"], grant=OPERATOR))
        return allocate(tenant, doc_id)

    monkeypatch.setattr(versions, "allocate", relabel_then_allocate)
    writer = write_grant(legacy(T, "ivy", {"ingest", "eng"}))
    [outcome] = runtime.pipeline.run(T, [record("spec", "eng rewrite")], labels=["eng"], grant=writer)

    assert outcome.status == ItemStatus.FAILED
    assert outcome.error == "the key may not write document 'spec'" and outcome.version is None
    view = runtime.documents.get(AccessFilter.everything(T), "spec")
    assert view.current_version == 2
    assert [(v.version, v.labels) for v in view.versions] == [(1, ["eng"]), (2, ["hr"])]
    hits = runtime.search.search(AccessFilter.everything(T), SearchRequest("rewrite", k=5))
    assert all(h.payload.version == 2 for h in hits)
