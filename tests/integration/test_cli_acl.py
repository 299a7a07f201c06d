"""``tessera acl ...``: rules, roles, explain, dry-run, history, revert, import and export, on SQLite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from core.settings import get_settings


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("TESSERA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TESSERA_INGEST__REDACTION_WORKERS", "0")
    monkeypatch.setenv("TESSERA_INGEST__REDACT", "false")
    get_settings.cache_clear()
    runner = CliRunner()
    for user, roles in (("ann", "admin"), ("bob", ""), ("carol", "")):
        assert (
            runner.invoke(
                app, ["keys", "create", "--tenant", "acme", "--user", user, "--roles", roles]
            ).exit_code
            == 0
        )
    yield runner
    get_settings.cache_clear()


def ok(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def fails(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def explain(cli: CliRunner, *target: str) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(ok(cli, "acl", "explain", "--tenant", "acme", *target, "--json"))
    return answer


def give_hr_to_bob(cli: CliRunner) -> None:
    ok(cli, "acl", "policies", "add", "hr", "hr", "read", "--tenant", "acme", "--reason", "hr reads hr")
    ok(cli, "acl", "roles", "assign", "hr-staff", "hr", "--tenant", "acme")
    ok(cli, "acl", "roles", "assign", "bob", "hr-staff", "--tenant", "acme")


def test_rules_roles_explain_history_and_revert(cli: CliRunner) -> None:
    give_hr_to_bob(cli)
    listed = ok(cli, "acl", "policies", "list", "--tenant", "acme", "--subject", "hr")
    assert "hr" in listed and "rules 1-1 of 1" in listed
    roles = ok(cli, "acl", "roles", "list", "--tenant", "acme", "--member", "bob")
    assert "hr-staff" in roles and "roles: admin, auditor, hr, hr-staff, ingest, member" in roles

    allowed = explain(cli, "--user", "bob", "--label", "hr")
    assert allowed["allowed"]
    assert allowed["labels"][0]["matches"][0]["text"] == (
        "bob → hr-staff → hr: read hr (p, hr, acme, hr, read, allow)"
    )
    printed = ok(cli, "acl", "explain", "--tenant", "acme", "--user", "bob", "--label", "hr")
    assert printed.startswith("allowed: bob may read 'hr': bob → hr-staff → hr: read hr")
    good = allowed["policy_version"]

    added = ok(cli, "acl", "policies", "add", "bob", "hr", "read", "--deny", "--tenant", "acme")
    assert added.strip() == f"version {good + 1}: rules, +1 -0 ()"
    denied = ok(cli, "acl", "explain", "--tenant", "acme", "--user", "bob", "--label", "hr")
    assert denied.startswith("denied: bob may not read 'hr': bob: deny read hr")

    history = ok(cli, "acl", "history", "--tenant", "acme", "--limit", "2")
    assert str(good + 1) in history and "cli:" in history and "hr reads hr" not in history
    reverted = ok(cli, "acl", "revert", str(good), "--tenant", "acme", "--reason", "undo")
    assert reverted.strip() == f"version {good + 2}: revert, +0 -1 (undo)"
    assert explain(cli, "--user", "bob", "--label", "hr")["allowed"]

    ok(cli, "acl", "roles", "unassign", "bob", "hr-staff", "--tenant", "acme")
    ok(cli, "acl", "policies", "remove", "hr", "hr", "read", "--tenant", "acme")
    assert not explain(cli, "--user", "bob", "--label", "hr")["allowed"]


def test_export_import_round_trip_and_a_bad_file_changes_nothing(cli: CliRunner, tmp_path: Path) -> None:
    give_hr_to_bob(cli)
    exported = tmp_path / "policy.csv"
    ok(cli, "acl", "export", str(exported), "--tenant", "acme")
    text = exported.read_text()
    assert "p, hr, acme, hr, read, allow\n" in text and "g, bob, hr-staff, acme\n" in text
    assert ok(cli, "acl", "export", "--tenant", "acme") == text

    bad = tmp_path / "bad.csv"
    bad.write_text(text + "p, hr, acme, finance, fly\n")
    line = len(text.splitlines()) + 1
    assert fails(cli, "acl", "import", str(bad), "--tenant", "acme").startswith(
        f"error: line {line}: action must be one of read"
    )
    other = tmp_path / "other.csv"
    other.write_text("p, hr, globex, hr, read\n")
    assert "rules may only name your own tenant" in fails(
        cli, "acl", "import", str(other), "--tenant", "acme"
    )
    assert ok(cli, "acl", "export", "--tenant", "acme") == text

    trimmed = tmp_path / "trimmed.csv"
    trimmed.write_text(text.replace("g, bob, hr-staff, acme\n", ""))
    assert "import, +0 -1 (import trimmed.csv)" in ok(cli, "acl", "import", str(trimmed), "--tenant", "acme")
    assert not explain(cli, "--user", "bob", "--label", "hr")["allowed"]


def test_explain_a_document_and_dry_run_a_change(cli: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "hr"
    folder.mkdir()
    (folder / "bands.txt").write_text("salary bands for engineers")
    (folder / "reviews.txt").write_text("performance reviews are in March")
    ok(cli, "ingest", str(folder / "bands.txt"), "--tenant", "acme", "--labels", "hr", "--doc-id", "hr/bands")
    ok(
        cli,
        "ingest",
        str(folder / "reviews.txt"),
        "--tenant",
        "acme",
        "--labels",
        "hr",
        "--doc-id",
        "hr/reviews",
    )
    give_hr_to_bob(cli)
    by_doc = explain(cli, "--user", "bob", "--doc", "hr/bands")
    assert by_doc["allowed"] and by_doc["doc_id"] == "hr/bands" and by_doc["doc_version"] == 1
    assert not explain(cli, "--user", "carol", "--doc", "hr/bands")["allowed"]
    assert fails(cli, "acl", "explain", "--tenant", "acme", "--user", "bob", "--doc", "nope") == (
        "error: document 'nope' not found"
    )
    before = ok(cli, "acl", "export", "--tenant", "acme")

    as_json = tmp_path / "change.json"
    as_json.write_text(json.dumps({"add": {"roles": [{"member": "carol", "role": "hr"}]}}))
    run = json.loads(ok(cli, "acl", "dry-run", str(as_json), "--tenant", "acme", "--json"))
    assert [(u["user"], u["gained"], u["lost"]) for u in run["users"]] == [("carol", 2, 0)]
    assert run["users"][0]["gained_examples"] == ["hr/bands", "hr/reviews"]

    as_csv = tmp_path / "change.csv"
    as_csv.write_text("-, g, bob, hr-staff, acme\np, carol, acme, hr, read\n")
    printed = ok(cli, "acl", "dry-run", str(as_csv), "--tenant", "acme", "--examples", "1")
    assert "bob" in printed and "carol" in printed
    assert "2 of 3 users change; 2 reads gained, 2 lost, over 2 documents; nothing was changed" in printed
    assert ok(cli, "acl", "export", "--tenant", "acme") == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["acl", "policies", "add", "hr", "hr", "fly", "--tenant", "acme"], "error: rule: action must be"),
        (
            ["acl", "policies", "remove", "hr", "hr", "read", "--tenant", "acme"],
            "error: rule 1 does not exist",
        ),
        (["acl", "policies", "add", "member", "public", "read", "--tenant", "acme"], "error: rule 1 already"),
        (["acl", "roles", "assign", "x", "x", "--tenant", "acme"], "cannot be a member of itself"),
        (["acl", "explain", "--tenant", "acme", "--user", "bob"], "error: give exactly one of"),
        (
            ["acl", "explain", "--tenant", "acme", "--user", "bob", "--label", "hr", "--action", "x"],
            "--action",
        ),
        (["acl", "dry-run", "/nonexistent.json", "--tenant", "acme"], "cannot be read"),
        (["acl", "revert", "999", "--tenant", "acme"], "error: version must be between 1 and"),
        (["acl", "import", "/nonexistent.csv", "--tenant", "acme"], "cannot be read"),
    ],
)
def test_bad_input_is_one_line_on_stderr(cli: CliRunner, args: list[str], message: str) -> None:
    assert message in fails(cli, *args)


def test_a_bad_dry_run_file_names_the_line(cli: CliRunner, tmp_path: Path) -> None:
    changes = tmp_path / "change.csv"
    changes.write_text("p, carol, acme, hr, read\n-, p, carol, acme, hr, fly\n")
    assert f"{changes}: line 2: action must be" in fails(
        cli, "acl", "dry-run", str(changes), "--tenant", "acme"
    )
    as_json = tmp_path / "change.json"
    as_json.write_text(json.dumps({"add": {"rules": [{"subject": "x"}]}}))
    assert "add.rules.0.object: Field required" in fails(
        cli, "acl", "dry-run", str(as_json), "--tenant", "acme"
    )
