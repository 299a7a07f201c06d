"""The REST API end to end through TestClient, on SQLite and PostgreSQL, with fake models."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acl.admin import Actor
from api.app import create_app
from api.runtime import Runtime
from core.types import TenantId
from tests.conftest import RuntimeFactory
from tests.support.pdf import make_pdf

PROBLEM = "application/problem+json"


def key(
    runtime: Runtime, tenant: str = "acme", roles: tuple[str, ...] = ("admin",), user: str = "ann"
) -> dict[str, str]:
    issued = runtime.admin.issue_key(Actor(TenantId(tenant), "test"), user, roles=roles)
    return {"Authorization": f"Bearer {issued.token}"}


def wait_for(client: TestClient, job_href: str, headers: dict[str, str]) -> dict[str, Any]:
    for _ in range(200):
        body: dict[str, Any] = client.get(job_href, headers=headers).json()
        if body["status"] not in ("queued", "running"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"job did not finish: {body}")


def ingest_records(
    client: TestClient, headers: dict[str, str], records: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    response = client.post("/v1/ingest/jobs", json={"records": records, **extra}, headers=headers)
    assert response.status_code == 202, response.text
    return wait_for(client, response.json()["href"], headers)


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    assert "tessera_http_requests_total" in client.get("/metrics").text
    assert client.get("/openapi.json").json()["info"]["title"] == "Tessera"


def test_requests_without_a_valid_key_get_problem_json(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer tsk_nope"}, {"Authorization": "Basic abc"}):
        response = client.post("/v1/search", json={"query": "x"}, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["status"] == 401


def test_multipart_job_with_good_and_bad_files(client: TestClient, runtime: Runtime) -> None:
    headers = key(runtime)
    files = [
        ("files", ("guide.md", b"# Guide\n\nThe reactor is cooled by liquid sodium.", "text/markdown")),
        (
            "files",
            (
                "scan.pdf",
                make_pdf([["Page one about turbines."], ["Page two about generators."]]),
                "application/pdf",
            ),
        ),
        ("files", ("broken.pdf", b"%PDF-1.4 garbage", "application/pdf")),
        ("files", ("empty.txt", b"", "text/plain")),
        ("files", ("virus.exe", b"MZ", "application/octet-stream")),
    ]
    response = client.post("/v1/ingest/jobs", files=files, data={"labels": "eng"}, headers=headers)
    assert response.status_code == 202, response.text
    job = wait_for(client, response.json()["href"], headers)
    assert job["status"] == "partial"
    by_name = {item["name"]: item for item in job["items"]}
    assert by_name["guide.md"]["status"] == "indexed"
    assert by_name["scan.pdf"]["status"] == "indexed"
    assert "corrupt" in by_name["broken.pdf"]["error"]
    assert by_name["empty.txt"]["error"] == "file is empty"
    assert "unsupported file type" in by_name["virus.exe"]["error"]
    assert job["counts"] == {"queued": 0, "indexed": 2, "unchanged": 0, "failed": 3}

    hits = client.post("/v1/search", json={"query": "generators", "k": 3}, headers=headers).json()["hits"]
    assert hits[0]["doc_id"] == "scan.pdf" and hits[0]["page"] == 2 and hits[0]["labels"] == ["eng"]


def test_search_hits_carry_provenance_and_trace_id(client: TestClient, runtime: Runtime) -> None:
    headers = key(runtime)
    ingest_records(
        client,
        headers,
        [
            {
                "id": "faq-1",
                "title": "Passwords",
                "text": "Reset passwords on the account page.",
                "metadata": {"updated_at": "2026-10-01T12:00:00+00:00"},
            }
        ],
    )
    response = client.post("/v1/search", json={"query": "reset password", "k": 5}, headers=headers)
    body = response.json()
    assert response.headers["X-Trace-Id"] == body["trace_id"]
    [hit] = body["hits"]
    expected = {
        "chunk_id",
        "doc_id",
        "version",
        "title",
        "source_uri",
        "score",
        "text",
        "char_start",
        "char_end",
        "page",
        "labels",
        "ingested_at",
        "source_updated_at",
        "content_sha256",
        "metadata",
        "trace_id",
    }
    assert set(hit) == expected
    assert hit["source_updated_at"].startswith("2026-10-01T12:00:00")
    assert hit["trace_id"] == body["trace_id"]


def test_hit_text_equals_the_stored_range(client: TestClient, runtime: Runtime) -> None:
    headers = key(runtime)
    text = " ".join(f"Sentence {i} mentions topic{i % 5} and more words here." for i in range(200))
    ingest_records(client, headers, [{"id": "long", "title": "Long", "text": text}])

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(topic=st.integers(0, 4), mode=st.sampled_from(["hybrid", "dense", "bm25"]))
    def check(topic: int, mode: str) -> None:
        hits = client.post(
            "/v1/search", json={"query": f"topic{topic}", "k": 10, "mode": mode}, headers=headers
        ).json()["hits"]
        assert hits
        for hit in hits:
            url = f"/v1/documents/{hit['doc_id']}/versions/{hit['version']}/text"
            stored = client.get(
                url, params={"start": hit["char_start"], "end": hit["char_end"]}, headers=headers
            ).json()
            assert stored["text"] == hit["text"]
            assert stored["content_sha256"] == hit["content_sha256"]

    check()


def test_another_tenants_document_is_a_404_and_never_a_hit(client: TestClient, runtime: Runtime) -> None:
    acme, globex = key(runtime, "acme"), key(runtime, "globex")
    ingest_records(client, acme, [{"id": "secret", "text": "acme merger plans with initech"}])
    assert client.post("/v1/search", json={"query": "merger plans"}, headers=globex).json()["hits"] == []
    for method, url in [
        ("get", "/v1/documents/secret"),
        ("get", "/v1/documents/secret/versions/1/text"),
        ("delete", "/v1/documents/secret"),
    ]:
        response = client.request(method, url, headers=globex)
        assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    job_id = client.post(
        "/v1/ingest/jobs", json={"records": [{"id": "x", "text": "y"}]}, headers=acme
    ).json()["job_id"]
    assert client.get(f"/v1/ingest/jobs/{job_id}", headers=globex).status_code == 404
    assert client.get("/v1/documents/secret", headers=acme).status_code == 200


def test_labels_limit_what_a_user_sees(client: TestClient, runtime: Runtime) -> None:
    admin = key(runtime)
    ingest_records(client, admin, [{"id": "bands", "text": "salary bands for engineers"}], labels=["hr"])
    ingest_records(client, admin, [{"id": "faq", "text": "salary is paid monthly"}])
    staff, hr = key(runtime, roles=("staff",), user="sam"), key(runtime, roles=("hr",), user="hana")
    seen = {
        h["doc_id"] for h in client.post("/v1/search", json={"query": "salary"}, headers=staff).json()["hits"]
    }
    assert seen == {"faq"}
    seen = {
        h["doc_id"] for h in client.post("/v1/search", json={"query": "salary"}, headers=hr).json()["hits"]
    }
    assert seen == {"faq", "bands"}


def test_versions_text_and_delete(client: TestClient, runtime: Runtime) -> None:
    headers = key(runtime)
    ingest_records(client, headers, [{"id": "docs/policy", "text": "Travel is booked two weeks ahead."}])
    job = ingest_records(
        client, headers, [{"id": "docs/policy", "text": "Travel is booked four weeks ahead."}]
    )
    assert job["items"][0]["version"] == 2
    document = client.get("/v1/documents/docs/policy", headers=headers).json()
    assert document["current_version"] == 2 and [v["version"] for v in document["versions"]] == [1, 2]
    old = client.get("/v1/documents/docs/policy/versions/1/text", headers=headers).json()
    assert old["text"] == "Travel is booked two weeks ahead."
    listing = client.get("/v1/documents", headers=headers).json()
    assert listing["total"] == 1 and listing["documents"][0]["doc_id"] == "docs/policy"
    assert client.delete("/v1/documents/docs/policy", headers=headers).status_code == 204
    assert client.get("/v1/documents/docs/policy", headers=headers).status_code == 404
    assert client.post("/v1/search", json={"query": "travel booked"}, headers=headers).json()["hits"] == []


def test_metadata_is_redacted_kept_versioned_and_filterable(client: TestClient, runtime: Runtime) -> None:
    headers = key(runtime)
    owner = {"owner": "ann@example.com", "team": "eng", "year": 2026, "tags": ["ops", "db"], "draft": None}
    job = ingest_records(
        client,
        headers,
        [
            {"id": "runbook", "text": "restart the database replica", "metadata": owner},
            {"id": "memo", "text": "the database budget", "metadata": {"team": "finance", "year": 2025}},
        ],
    )
    assert {i["status"] for i in job["items"]} == {"indexed"}

    def search(**filters: Any) -> list[dict[str, Any]]:
        body = {"query": "database", "filters": {"metadata": filters}}
        response = client.post("/v1/search", json=body, headers=headers)
        assert response.status_code == 200, response.text
        hits: list[dict[str, Any]] = response.json()["hits"]
        return hits

    [hit] = search(team="eng")
    assert hit["doc_id"] == "runbook"
    # string values are redacted like the text; None values are dropped
    assert hit["metadata"] == {"owner": "<EMAIL_ADDRESS>", "team": "eng", "year": 2026, "tags": ["ops", "db"]}
    assert {h["doc_id"] for h in search(year=[2025, 2026])} == {"runbook", "memo"}
    assert [h["doc_id"] for h in search(tags="db")] == ["runbook"]
    assert search(team="eng", year=2025) == []
    document = client.get("/v1/documents/runbook", headers=headers).json()
    assert document["versions"][0]["metadata"]["owner"] == "<EMAIL_ADDRESS>"
    assert document["versions"][0]["redaction_counts"] == {"EMAIL_ADDRESS": 1}

    # changed metadata alone is a new version, and search sees only the new values
    again = ingest_records(
        client,
        headers,
        [{"id": "runbook", "text": "restart the database replica", "metadata": {"team": "sre"}}],
    )
    assert again["items"][0]["version"] == 2
    assert search(team="eng") == [] and [h["doc_id"] for h in search(team="sre")] == ["runbook"]


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"query": "x", "filters": {"metadata": {"a.b": "x"}}}, 400, "metadata key 'a.b'"),
        ({"query": "x", "filters": {"metadata": {"team": []}}}, 400, "needs one or more values"),
        ({"query": "x", "filters": {"metadata": {"team": {"x": 1}}}}, 422, "metadata"),
        ({"query": "x", "filters": {"metadata": {"flag": True}}}, 422, "metadata"),
        ({"query": "x", "k": 0}, 422, "body.k: Input should be greater than or equal to 1"),
        ({"query": "x", "k": 101}, 400, "k must be between 1 and 100, got 101"),
        ({"query": "   "}, 400, "query must not be empty"),
        ({"query": "x", "mode": "fuzzy"}, 422, "mode"),
        ({"query": "x", "surprise": 1}, 422, "surprise"),
    ],
)
def test_bad_search_input_is_a_clear_problem(
    client: TestClient, runtime: Runtime, body: dict[str, Any], status: int, needle: str
) -> None:
    response = client.post("/v1/search", json=body, headers=key(runtime))
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert needle in response.text


def test_bad_text_range_names_the_limits(client: TestClient, runtime: Runtime) -> None:
    headers = key(runtime)
    ingest_records(client, headers, [{"id": "short", "text": "tiny"}])
    response = client.get(
        "/v1/documents/short/versions/1/text", params={"start": 2, "end": 99}, headers=headers
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "end must be between start (2) and 4, got 99"
    assert client.get("/v1/documents/short/versions/7/text", headers=headers).status_code == 404


def test_bad_ingest_bodies(client: TestClient, runtime: Runtime) -> None:
    headers = key(runtime)
    assert (
        client.post(
            "/v1/ingest/jobs", content=b"x", headers={**headers, "Content-Type": "text/plain"}
        ).status_code
        == 415
    )
    response = client.post("/v1/ingest/jobs", json={"records": []}, headers=headers)
    assert response.status_code == 400 and "records" in response.json()["detail"]
    response = client.post(
        "/v1/ingest/jobs",
        json={"records": [{"id": "a", "text": "b"}], "labels": ["Bad Label"]},
        headers=headers,
    )
    assert response.status_code == 400 and "label" in response.json()["detail"]


def test_oversized_upload_fails_its_item(make_runtime: RuntimeFactory, database_url: str) -> None:
    from core.settings import IngestSettings

    runtime = make_runtime(
        database_url=database_url, ingest=IngestSettings(redaction_workers=0, max_file_bytes=100)
    )
    with TestClient(create_app(runtime=runtime)) as client:
        headers = key(runtime)
        files = [
            ("files", ("big.txt", b"x" * 500, "text/plain")),
            ("files", ("ok.txt", b"small file", "text/plain")),
        ]
        job = wait_for(
            client, client.post("/v1/ingest/jobs", files=files, headers=headers).json()["href"], headers
        )
    by_name = {i["name"]: i for i in job["items"]}
    assert by_name["big.txt"]["error"] == "file is larger than the limit of 100 bytes"
    assert by_name["ok.txt"]["status"] == "indexed"


def test_jsonl_upload_expands_into_records(client: TestClient, runtime: Runtime) -> None:
    headers = key(runtime)
    jsonl = b'{"id": "r1", "text": "first record"}\n{"id": "r2", "text": "second record"}\nnot json\n'
    job = wait_for(
        client,
        client.post(
            "/v1/ingest/jobs",
            files=[("files", ("batch.jsonl", jsonl, "application/x-ndjson"))],
            headers=headers,
        ).json()["href"],
        headers,
    )
    assert [i["status"] for i in job["items"]] == ["indexed", "indexed", "failed"]


def test_document_routes_apply_the_same_labels_as_search(client: TestClient, runtime: Runtime) -> None:
    admin = key(runtime)
    ingest_records(client, admin, [{"id": "bands", "text": "salary bands for engineers"}], labels=["hr"])
    ingest_records(client, admin, [{"id": "faq", "text": "salary is paid monthly"}])
    staff = key(runtime, roles=("staff",), user="sam")
    assert client.get("/v1/documents/bands", headers=staff).status_code == 404
    assert client.get("/v1/documents/bands/versions/1/text", headers=staff).status_code == 404
    listing = client.get("/v1/documents", headers=staff).json()
    assert listing["total"] == 1 and [d["doc_id"] for d in listing["documents"]] == ["faq"]
    hr = key(runtime, roles=("hr",), user="hana")
    assert (
        client.get("/v1/documents/bands/versions/1/text", headers=hr).json()["text"]
        == "salary bands for engineers"
    )


def test_writing_needs_a_writer_role_and_only_labels_it_holds(client: TestClient, runtime: Runtime) -> None:
    reader = key(runtime, roles=("staff",), user="sam")
    body = {"records": [{"id": "x", "text": "y"}]}
    response = client.post("/v1/ingest/jobs", json=body, headers=reader)
    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM
    writer = key(runtime, roles=("ingest", "eng"), user="ivy")
    assert client.post("/v1/ingest/jobs", json={**body, "labels": ["hr"]}, headers=writer).status_code == 403
    assert client.post("/v1/ingest/jobs", json={**body, "labels": ["eng"]}, headers=writer).status_code == 202
    assert client.delete("/v1/documents/x", headers=reader).status_code == 403


def test_a_crash_still_answers_problem_json_with_a_trace_id(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom with internal detail")

    monkeypatch.setattr(runtime.search, "search", explode)
    response = client.post("/v1/search", json={"query": "x"}, headers=key(runtime))
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["X-Trace-Id"] == response.json()["trace_id"]
    assert "boom" not in response.text


def test_request_bodies_over_the_limit_are_refused_before_reading(
    make_runtime: RuntimeFactory, database_url: str
) -> None:
    from core.settings import IngestSettings

    runtime = make_runtime(
        database_url=database_url, ingest=IngestSettings(redaction_workers=0, max_request_bytes=2048)
    )
    with TestClient(create_app(runtime=runtime)) as client:
        headers = key(runtime)
        files = [("files", ("big.txt", b"x" * 5000, "text/plain"))]
        response = client.post("/v1/ingest/jobs", files=files, headers=headers)
        assert response.status_code == 413
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["detail"] == "request body is larger than the limit of 2048 bytes"
        assert client.post("/v1/search", json={"query": "fine"}, headers=headers).status_code == 200


def test_uploaded_files_take_the_jobs_metadata(client: TestClient, runtime: Runtime) -> None:
    headers = key(runtime)
    files = [("files", ("runbook.txt", b"restart the replica first", "text/plain"))]
    form = {"metadata": '{"team": "sre", "owner": "ann@example.com"}'}
    response = client.post("/v1/ingest/jobs", files=files, data=form, headers=headers)
    assert response.status_code == 202, response.text
    assert wait_for(client, response.json()["href"], headers)["items"][0]["status"] == "indexed"
    body = {"query": "replica", "filters": {"metadata": {"team": "sre"}}}
    [hit] = client.post("/v1/search", json=body, headers=headers).json()["hits"]
    assert hit["metadata"] == {"team": "sre", "owner": "<EMAIL_ADDRESS>"}

    for bad, needle in (
        ("[1]", "must be a JSON object"),
        ("{", "not valid JSON"),
        ('{"a": {}}', "metadata.a"),
    ):
        refused = client.post("/v1/ingest/jobs", files=files, data={"metadata": bad}, headers=headers)
        assert refused.status_code == 400 and refused.headers["content-type"] == PROBLEM
        assert needle in refused.json()["detail"]


# Hostile input: every one of these answered 500 before; each must be a 4xx problem naming the field.
HUGE = 10**20


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/documents?offset={HUGE}",
        f"/v1/documents?limit={HUGE}",
        f"/v1/documents/doc/versions/{HUGE}/text",
        f"/v1/documents/doc/versions/1/text?start={HUGE}",
        f"/v1/documents/doc/versions/1/text?end={-HUGE}",
    ],
)
def test_numbers_beyond_the_databases_range_are_a_4xx_problem(
    client: TestClient, runtime: Runtime, path: str
) -> None:
    headers = key(runtime)
    ingest_records(client, headers, [{"id": "doc", "text": "a short document"}])
    response = client.get(path, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == PROBLEM


def test_a_lone_surrogate_in_a_search_is_a_4xx_problem(client: TestClient, runtime: Runtime) -> None:
    headers = {**key(runtime), "Content-Type": "application/json"}
    for body in (
        b'{"query": "caf\\ud800e"}',
        b'{"query": "x", "filters": {"doc_ids": ["\\udfff"]}}',
        b'{"query": "x", "filters": {"metadata": {"team": "\\ud83d"}}}',
    ):
        response = client.post("/v1/search", content=body, headers=headers)
        assert response.status_code == 422, response.text
        assert "surrogate" in response.json()["detail"]


def test_a_huge_integer_in_a_metadata_filter_is_a_4xx_problem(client: TestClient, runtime: Runtime) -> None:
    headers = key(runtime)
    for value in (HUGE, [1, -HUGE]):
        body = {"query": "x", "filters": {"metadata": {"year": value}}}
        response = client.post("/v1/search", json=body, headers=headers)
        assert response.status_code == 422, response.text
        assert "metadata.year" in response.json()["detail"]


def test_a_huge_integer_in_record_metadata_is_refused(client: TestClient, runtime: Runtime) -> None:
    headers = key(runtime)
    body = {"records": [{"id": "a", "text": "b", "metadata": {"year": HUGE}}]}
    response = client.post("/v1/ingest/jobs", json=body, headers=headers)
    assert response.status_code == 400, response.text
    assert "metadata" in response.json()["detail"]


DEEP = "[" * 100_000 + "]" * 100_000


def test_metadata_nested_100k_deep_is_a_400_not_a_crash(client: TestClient, runtime: Runtime) -> None:
    headers = key(runtime)
    files = [("files", ("a.txt", b"some text", "text/plain"))]
    response = client.post(
        "/v1/ingest/jobs", files=files, data={"metadata": '{"x": ' + DEEP + "}"}, headers=headers
    )
    assert response.status_code == 400, response.text
    assert "nested" in response.json()["detail"]
    body = '{"records": [{"id": "a", "text": "b", "metadata": {"x": ' + DEEP + "}}]}"
    response = client.post(
        "/v1/ingest/jobs", content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text


def test_every_returned_time_is_timezone_aware(client: TestClient, runtime: Runtime) -> None:
    headers = key(runtime)
    job = ingest_records(client, headers, [{"id": "doc", "text": "a short document"}])
    document = client.get("/v1/documents/doc", headers=headers).json()
    stamps = [job["created_at"], job["finished_at"], document["versions"][0]["ingested_at"]]
    for stamp in stamps:
        assert datetime.fromisoformat(stamp).utcoffset() == timedelta(0), stamp


# Uploads: authorised before the body is read, streamed to disk, the spool gone once the job settles.
BOUNDARY = "tessera-test-boundary"
MEGABYTE = b"x" * (1024 * 1024)


def _multipart_stream(fields: dict[str, str], megabytes: int, pulled: list[int]) -> Any:
    """A multipart body of ``fields`` then one file of ``megabytes`` MB, counting the chunks taken."""

    async def body() -> Any:
        for name, value in fields.items():
            yield (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            ).encode()
        yield (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        for _ in range(megabytes):
            pulled.append(1)
            yield MEGABYTE
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    return body()


def _post_streaming(
    client: TestClient, headers: dict[str, str], fields: dict[str, str], megabytes: int, query: str = ""
) -> tuple[int, int]:
    """POST through httpx's ASGI transport, which hands the app one chunk per receive() (TestClient
    sends the whole body at once, so it cannot show what was left unread)."""
    pulled: list[int] = []

    async def post() -> int:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as streaming:
            response = await streaming.post(
                "/v1/ingest/jobs" + query,
                content=_multipart_stream(fields, megabytes, pulled),
                headers={**headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
            )
        return response.status_code

    return asyncio.run(post()), len(pulled)


def test_a_key_that_may_not_ingest_is_refused_before_its_upload_is_read(
    client: TestClient, runtime: Runtime
) -> None:
    member = key(runtime, roles=("member",), user="max")
    status, pulled = _post_streaming(client, member, {}, megabytes=200)
    assert status == 403 and pulled == 0


def test_labels_the_key_may_not_write_are_refused_before_the_files_behind_them(
    client: TestClient, runtime: Runtime
) -> None:
    writer = key(runtime, roles=("ingest", "eng"), user="ivy")
    status, pulled = _post_streaming(client, writer, {"labels": "hr"}, megabytes=200)
    assert status == 403 and pulled <= 1
    status, pulled = _post_streaming(client, writer, {}, megabytes=200, query="?labels=hr")
    assert status == 403 and pulled == 0


def _spooled(runtime: Runtime) -> list[Path]:
    root = runtime.settings.data_dir / "uploads"
    return sorted(root.rglob("*")) if root.exists() else []


def test_uploads_wait_on_disk_and_are_removed_when_the_job_settles(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = key(runtime)
    held: list[Any] = []
    run = runtime.jobs.run

    def recording_run(job_id: str, tenant: Any, items: Any, *args: Any, **kwargs: Any) -> Any:
        held.extend(items)
        held.append([p.name for p in _spooled(runtime)])
        return run(job_id, tenant, items, *args, **kwargs)

    monkeypatch.setattr(runtime.jobs, "run", recording_run)
    files = [
        ("files", (f"note-{i}.txt", f"note number {i} about pumps".encode(), "text/plain")) for i in range(3)
    ]
    job = wait_for(
        client, client.post("/v1/ingest/jobs", files=files, headers=headers).json()["href"], headers
    )
    assert [i["status"] for i in job["items"]] == ["indexed"] * 3
    *sources, spooled_while_running = held
    assert all(s.data is None and s.path is not None for s in sources)  # paths, not payloads
    assert len(spooled_while_running) == 4  # the request's directory and its three files
    _wait_until(lambda: _spooled(runtime) == [])


def test_the_spool_is_removed_when_the_job_fails(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the worker died")

    monkeypatch.setattr(runtime.jobs, "run", crash)
    files = [("files", ("a.txt", b"some text", "text/plain"))]
    headers = key(runtime)
    accepted = client.post("/v1/ingest/jobs", files=files, headers=headers)
    assert accepted.status_code == 202
    _wait_until(lambda: _spooled(runtime) == [])
    # The crashed job is settled at once, not left queued until this process stops.
    job = wait_for(client, accepted.json()["href"], headers)
    assert job["status"] == "failed" and job["items"][0]["status"] == "failed"


def test_a_refused_upload_leaves_nothing_on_disk(client: TestClient, runtime: Runtime) -> None:
    files = [("files", ("a.txt", b"some text", "text/plain"))]
    response = client.post("/v1/ingest/jobs", files=files, data={"metadata": "{"}, headers=key(runtime))
    assert response.status_code == 400
    assert _spooled(runtime) == []


def _wait_until(condition: Any) -> None:
    for _ in range(100):
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition never held")


def test_uploads_left_by_a_killed_process_are_swept_at_start(tmp_path: Path) -> None:
    from core.settings import Settings

    settings = Settings(data_dir=tmp_path / "data")
    leftover = settings.data_dir / "uploads" / "upload-killed" / "000001"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half a job")
    with TestClient(create_app(settings)) as started:
        assert started.get("/healthz").status_code == 200
    assert not leftover.parent.exists()


def test_rows_read_back_carry_utc_times_on_every_database(client: TestClient, runtime: Runtime) -> None:
    from core.access import AccessFilter
    from core.types import tenant_id

    headers = key(runtime)
    job = ingest_records(client, headers, [{"id": "doc", "text": "a short document"}])
    versions = runtime.documents.get(AccessFilter.everything(tenant_id("acme")), "doc").versions
    view = runtime.jobs.get(tenant_id("acme"), job["job_id"])
    for stamp in (versions[0].ingested_at, view.job.created_at, view.job.finished_at):
        assert stamp is not None and stamp.utcoffset() == timedelta(0), stamp


def test_a_wrong_method_lists_every_method_of_the_path(client: TestClient, runtime: Runtime) -> None:
    response = client.request("PATCH", "/v1/documents/doc", headers=key(runtime))
    assert response.status_code == 405 and response.headers["content-type"] == PROBLEM
    assert response.headers["Allow"] == "DELETE, GET"


def test_the_openapi_states_every_problem_and_every_range(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    ingest = spec["paths"]["/v1/ingest/jobs"]["post"]["responses"]
    for status in ("400", "401", "403", "413", "415", "422", "500", "503"):
        assert ingest[status]["content"] == {PROBLEM: {"schema": problem_ref}}, status
    listing = {p["name"]: p["schema"] for p in spec["paths"]["/v1/documents"]["get"]["parameters"]}
    assert (listing["limit"]["minimum"], listing["limit"]["maximum"]) == (1, 1000)
    assert (listing["offset"]["minimum"], listing["offset"]["maximum"]) == (0, 2**31 - 1)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
