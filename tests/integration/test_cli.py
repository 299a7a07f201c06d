"""The ``tessera`` CLI against a real runtime (real encoder and redactor) in a temp data dir."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from core.settings import get_settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "corpus"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("TESSERA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TESSERA_INGEST__REDACTION_WORKERS", "0")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_ingest_search_show_text_delete(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["ingest", str(EXAMPLES), "--tenant", "demo"])
    assert result.exit_code == 0, result.output
    assert "10 indexed, 0 unchanged, 0 failed" in result.stdout

    again = cli.invoke(app, ["ingest", str(EXAMPLES), "--tenant", "demo"])
    assert "0 indexed, 10 unchanged, 0 failed" in again.stdout

    narrowed = cli.invoke(
        app, ["search", "firmware", "--tenant", "demo", "--json", "--meta", "team=robotics"]
    )
    [robotics] = json.loads(narrowed.stdout)
    assert robotics["doc_id"] == "faq-002" and robotics["metadata"]["firmware"] == 42
    by_number = cli.invoke(app, ["search", "firmware", "--tenant", "demo", "--json", "--meta", "firmware=42"])
    assert [h["doc_id"] for h in json.loads(by_number.stdout)] == ["faq-002"]
    tagged = tmp_path / "oncall.txt"
    tagged.write_text("The on-call rota changes every Monday.", encoding="utf-8")
    meta = ["--meta", "team=sre", "--meta", "tags=ops", "--meta", "tags=rota", "--meta", 'code="07"']
    assert cli.invoke(app, ["ingest", str(tagged), "--tenant", "demo", *meta]).exit_code == 0
    found_tagged = cli.invoke(
        app, ["search", "on-call rota", "--tenant", "demo", "--json", "--meta", "tags=rota"]
    )
    [oncall] = json.loads(found_tagged.stdout)
    assert oncall["metadata"] == {"team": "sre", "tags": ["ops", "rota"], "code": "07"}
    found = cli.invoke(app, ["search", "E-117 sensor timeout", "--tenant", "demo", "--json", "-k", "3"])
    assert found.exit_code == 0, found.output
    hits = json.loads(found.stdout)
    assert hits[0]["doc_id"] in {"support/known-issues.html", "support/ticket-4312.eml"}

    shown = json.loads(
        cli.invoke(app, ["documents", "show", "handbook/security-policy.md", "--tenant", "demo"]).stdout
    )
    counts = shown["versions"][0]["redaction_counts"]
    assert counts["URL_PASSWORD"] == 1 and counts["EMAIL_ADDRESS"] == 1

    text = cli.invoke(
        app, ["documents", "text", "handbook/security-policy.md", "--version", "1", "--tenant", "demo"]
    )
    assert "Winter2026!" not in text.stdout and "<URL_PASSWORD>" in text.stdout
    assert "security@northwind-robotics.com" not in text.stdout

    deleted = cli.invoke(app, ["documents", "delete", "handbook/travel.txt", "--tenant", "demo"])
    assert deleted.exit_code == 0 and "deleted handbook/travel.txt" in deleted.stdout
    missing = cli.invoke(app, ["documents", "show", "handbook/travel.txt", "--tenant", "demo"])
    assert missing.exit_code == 1
    assert missing.stderr.strip() == "error: document 'handbook/travel.txt' not found"


def test_bad_files_fail_alone_and_exit_non_zero(cli: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text("a perfectly fine document about turbines")
    (folder / "empty.txt").write_text("")
    (folder / "binary.exe").write_bytes(b"MZ")
    result = cli.invoke(app, ["ingest", str(folder), "--tenant", "t1", "--labels", "eng,ops"])
    assert result.exit_code == 1
    assert "1 indexed, 0 unchanged, 2 failed" in result.stdout
    assert "empty.txt: file is empty" in result.stderr
    job_id = result.stdout.split()[1].rstrip(":")
    shown = cli.invoke(app, ["jobs", "show", job_id, "--tenant", "t1"])
    assert "partial" in shown.stdout


def test_hostile_files_fail_alone_and_the_rest_is_indexed(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESSERA_INGEST__MAX_FILE_BYTES", "300000")
    get_settings.cache_clear()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text("a perfectly fine document about turbines")
    (folder / os.fsdecode(b"r\xe9sum\xe9.txt")).write_text("a name in Latin-1 bytes")
    (folder / "junk.txt").write_bytes(random.Random(3).randbytes(4000))
    (folder / "huge.txt").write_text("turbines " * 40_000)
    deep = "[" * 100_000 + "]" * 100_000
    good_record = json.dumps({"id": "rec-1", "text": "a record about wind farms"})
    (folder / "records.jsonl").write_text(f'{{"id": "deep", "text": {deep}}}\n{good_record}\n')
    result = cli.invoke(app, ["ingest", str(folder), "--tenant", "t1"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    assert "2 indexed, 0 unchanged, 4 failed" in result.stdout
    errors = result.stderr
    assert "file name is not valid UTF-8" in errors
    assert "junk.txt: file holds binary data, not text" in errors
    assert "huge.txt: file is larger than the limit of 300000 bytes (360000 bytes)" in errors
    assert "records.jsonl#1: record is nested too deeply" in errors
    found = cli.invoke(app, ["search", "wind farms", "--tenant", "t1", "--json", "-k", "1"])
    assert [hit["doc_id"] for hit in json.loads(found.stdout)] == ["rec-1"]


def test_keys_are_printed_once_and_can_be_revoked(cli: CliRunner) -> None:
    created = cli.invoke(app, ["keys", "create", "--tenant", "acme", "--user", "ann", "--roles", "admin,hr"])
    assert created.exit_code == 0
    token = created.stdout.strip()
    assert token.startswith("tsk_")
    key_id = token.split("_")[1]
    listed = cli.invoke(app, ["keys", "list", "--tenant", "acme"])
    assert key_id in listed.stdout and token not in listed.stdout
    assert cli.invoke(app, ["keys", "revoke", key_id, "--tenant", "acme"]).exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "x", "--tenant", "Bad Tenant"], "error: tenant must be"),
        (["search", "x", "--tenant", "t", "-k", "0"], "error: k must be between 1 and 100, got 0"),
        (["search", "x", "--tenant", "t", "--meta", "team"], "error: --meta takes KEY=VALUE, got 'team'"),
        (["ingest", "a.txt", "--tenant", "t", "--meta", "a.b=1"], "error: metadata key 'a.b'"),
        (["keys", "create", "--tenant", "t", "--user", "u", "--roles", "Admin"], "error: role must be"),
        (["ingest", "/nonexistent/file.txt", "--tenant", "t"], "nonexistent/file.txt: no such file"),
        (["documents", "list", "--tenant", "t", "--offset", str(10**20)], "error: --offset must be"),
        (["documents", "text", "d", "--tenant", "t", "--version", str(10**20)], "error: --version must"),
    ],
)
def test_bad_input_is_one_line_on_stderr(cli: CliRunner, args: list[str], message: str) -> None:
    result = cli.invoke(app, args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_cli_refuses_to_fight_a_running_owner_of_the_index(cli: CliRunner) -> None:
    from retrieval.edge import EdgeVectorStore

    holder = EdgeVectorStore(get_settings().shards_dir, dimension=384, owner="tessera serve")
    try:
        result = cli.invoke(app, ["search", "anything", "--tenant", "demo"])
    finally:
        holder.close()
    assert result.exit_code == 1
    assert "in use by tessera serve" in result.stderr


def test_db_upgrade_is_idempotent(cli: CliRunner) -> None:
    for _ in range(2):
        result = cli.invoke(app, ["db", "upgrade"])
        assert result.exit_code == 0 and "is up to date" in result.stdout


def write_beir(root: Path) -> Path:
    (root / "qrels").mkdir(parents=True)
    corpus = [
        {"_id": "d1", "title": "Aspirin", "text": "Aspirin reduces the risk of heart attack in adults."},
        {"_id": "d2", "title": "Vitamin D", "text": "Vitamin D deficiency is linked to bone fractures."},
        {"_id": "d3", "title": "Sleep", "text": "Short sleep raises blood pressure in teenagers."},
    ]
    (root / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in corpus))
    queries = [
        {"_id": "q1", "text": "does aspirin prevent heart attacks"},
        {"_id": "q2", "text": "bone fractures"},
    ]
    (root / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries))
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    return root


def test_eval_retrieval_prints_metrics_and_writes_a_trec_run(cli: CliRunner, tmp_path: Path) -> None:
    dataset = write_beir(tmp_path / "beir")
    run = tmp_path / "run.trec"
    result = cli.invoke(app, ["eval", "retrieval", "--beir", str(dataset), "--json", "--save-run", str(run)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["queries"] == 2 and summary["documents"] == 3
    assert summary["results"]["hybrid"]["ndcg@10"] == 1.0
    assert set(summary["results"]) == {"hybrid", "dense", "bm25"}
    lines = run.read_text().splitlines()
    assert lines[0].split()[:4] == ["q1", "Q0", "d1", "1"]
    # the scratch tenant is gone afterwards: no shard directory, no rows
    shards = get_settings().shards_dir
    assert not [p for p in shards.iterdir() if p.name.startswith("eval_")]
    from sqlalchemy import create_engine, text

    engine = create_engine(get_settings().resolved_database_url)
    with engine.connect() as connection:
        for table in ("documents", "chunks", "ingest_jobs"):
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0
    engine.dispose()


def test_eval_names_what_a_beir_directory_lacks(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = cli.invoke(app, ["eval", "retrieval", "--beir", str(tmp_path / "empty")])
    assert result.exit_code == 1
    assert "BEIR directory lacks corpus.jsonl" in result.stderr
