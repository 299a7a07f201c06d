"""The ``tessera`` command line: serve, ingest, search, keys, documents, jobs, eval, demo.

Every command translates its arguments into one service call; errors print one line and exit 1.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from acl.filters import WriteGrant, check_writer, normalise_labels
from api import cli_acl, cli_eval
from api.cli_common import (
    AS_USER_HELP,
    acting_as,
    err,
    one_line_errors,
    out,
    run_with_progress,
    runtime_for,
    services_for,
)
from api.params import check_db_int
from api.schemas import hit_fields
from core.db import make_engine, migrate
from core.errors import InvalidInputError
from core.metadata import check_metadata
from core.settings import Settings, get_settings
from core.types import tenant_id
from ingest.sources import discover
from retrieval.ports import SearchFilters
from retrieval.search import Mode, SearchRequest

app = typer.Typer(help="Tessera: tenant-isolated retrieval with provenance.", no_args_is_help=True)
docs_app = typer.Typer(help="Inspect and delete documents.", no_args_is_help=True)
jobs_app = typer.Typer(help="Inspect ingest jobs.", no_args_is_help=True)
eval_app = typer.Typer(help="Offline evaluations.", no_args_is_help=True)
app.add_typer(cli_acl.keys_app, name="keys")
app.add_typer(cli_acl.acl_app, name="acl")
app.add_typer(docs_app, name="documents")
app.add_typer(jobs_app, name="jobs")
app.add_typer(eval_app, name="eval")
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@app.command()
@one_line_errors
def serve(
    host: str = typer.Option("127.0.0.1", help="interface to bind"),
    port: int = typer.Option(8000, help="TCP port"),
    access_log: bool = typer.Option(
        False, help="log every request line (off: /metrics and X-Trace-Id cover requests more cheaply)"
    ),
) -> None:
    """Run the REST API (OpenAPI at /docs, /healthz, /readyz, /metrics)."""
    import uvicorn

    from api.app import create_app
    from api.runtime import check_settings

    settings = get_settings()
    check_settings(settings)  # a bad combination is one line here, not a traceback from the lifespan
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", access_log=access_log)


@app.command()
@one_line_errors
def ingest(
    paths: list[Path] = typer.Argument(..., help="files, folders (recursively) and .jsonl record files"),
    tenant: str = typer.Option(..., "--tenant", help="tenant to ingest into"),
    labels: str = typer.Option("", help="comma-separated ACL labels for every document (default: public)"),
    doc_id: str | None = typer.Option(None, "--doc-id", help="document id, when ingesting a single file"),
    meta: list[str] = typer.Option(
        [],
        "--meta",
        help="KEY=VALUE metadata for every document (repeat a key for a list; a record's own values win). "
        "A whole number is stored as an integer; quote it (KEY='\"42\"') to store the string.",
    ),
) -> None:
    """Ingest documents: parse, redact, chunk, embed and index them, with a progress bar."""
    checked = tenant_id(tenant)
    acl_labels = normalise_labels(labels.split(","))
    given = {key: values[0] if len(values) == 1 else values for key, values in _meta_pairs(meta).items()}
    job_metadata = check_metadata(given)
    # Listed, not read: each file's bytes are read when its pipeline window reaches it.
    limit = get_settings().ingest.max_file_bytes
    items = discover(paths, doc_id=doc_id, max_file_bytes=limit).with_metadata(job_metadata)
    runtime = runtime_for()
    try:
        job_id = runtime.jobs.create(checked, "cli", items, acl_labels)
        grant = WriteGrant.everything(checked)  # the operator on the machine writes every label
        view = run_with_progress(runtime, job_id, checked, items, acl_labels, grant)
    finally:
        runtime.close()
    counts = view.counts
    failed = view.failed
    for item in failed:
        err.print(f"[red]failed[/red] {item.name}: {item.error}", highlight=False, soft_wrap=True)
    if counts["failed"] > len(failed):
        err.print(f"… and {counts['failed'] - len(failed)} more failed (tessera jobs show {job_id})")
    out.print(
        f"job {job_id}: {counts['indexed']} indexed, {counts['unchanged']} unchanged, "
        f"{counts['failed']} failed ({view.job.status})",
        highlight=False,
    )
    if failed:
        raise typer.Exit(1)


@app.command()
@one_line_errors
def search(
    query: str = typer.Argument(..., help="what to look for"),
    tenant: str = typer.Option(..., "--tenant"),
    k: int = typer.Option(10, "-k", "--k", help="number of hits"),
    mode: Mode = typer.Option(Mode.HYBRID, help="hybrid, dense or bm25"),
    as_user: str | None = typer.Option(None, "--as-user", help=AS_USER_HELP),
    as_json: bool = typer.Option(False, "--json", help="print hits as JSON"),
    meta: list[str] = typer.Option(
        [],
        "--meta",
        help="KEY=VALUE: only documents whose metadata KEY equals VALUE (repeat a key for any of several). "
        "A whole number matches as an integer; quote it (KEY='\"42\"') to match the string.",
    ),
) -> None:
    """Search a tenant from the command line, with the same filters and re-checks as the API."""
    request = SearchRequest(
        query=query, k=k, mode=mode, filters=SearchFilters(metadata_any=_meta_filter(meta))
    )
    runtime = runtime_for()
    try:
        hits = runtime.search.search(acting_as(runtime, tenant, as_user).read, request)
    finally:
        runtime.close()
    if as_json:
        rows = [hit_fields(h) for h in hits]
        out.print_json(json.dumps(rows, default=str))
        return
    table = Table("score", "doc_id", "v", "chars", "page", "text")
    for hit in hits:
        p = hit.payload
        snippet = p.text[:160].replace("\n", " ") + ("…" if len(p.text) > 160 else "")
        table.add_row(
            f"{hit.score:.3f}",
            p.doc_id,
            str(p.version),
            f"{p.char_start}-{p.char_end}",
            str(p.page or ""),
            snippet,
        )
    out.print(table)


def _meta_pairs(pairs: list[str]) -> dict[str, list[str | int]]:
    """``KEY=VALUE`` options, values grouped by key; a whole number is an integer unless quoted."""
    values: dict[str, list[str | int]] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise InvalidInputError(f"--meta takes KEY=VALUE, got {pair!r}")
        value: str | int = raw
        if re.fullmatch(r"-?\d{1,18}", raw):
            value = int(raw)
        elif len(raw) >= 2 and raw[0] == raw[-1] == '"':
            value = raw[1:-1]
        values.setdefault(key, []).append(value)
    return values


def _meta_filter(pairs: list[str]) -> tuple[tuple[str, tuple[str | int, ...]], ...]:
    return tuple((key, tuple(values)) for key, values in _meta_pairs(pairs).items())


def _db(settings: Settings | None = None) -> Any:
    """Database only: key and job commands must work while a server owns the embedded index."""
    engine = make_engine((settings or get_settings()).resolved_database_url)
    migrate(engine)
    return engine


@db_app.command("upgrade")
@one_line_errors
def db_upgrade() -> None:
    """Bring the database schema to the newest version (also done on every start)."""
    settings = get_settings()
    _db(settings).dispose()
    out.print(f"database at {settings.resolved_database_url.split('@')[-1]} is up to date")


@docs_app.command("list")
@one_line_errors
def documents_list(
    tenant: str = typer.Option(..., "--tenant"),
    limit: int = 100,
    offset: int = 0,
    as_user: str | None = typer.Option(None, "--as-user", help=AS_USER_HELP),
) -> None:
    """List a tenant's documents."""
    check_db_int("--offset", offset)
    runtime = runtime_for()
    try:
        allowed = acting_as(runtime, tenant, as_user).read
        total, rows = runtime.documents.list(allowed, limit=limit, offset=offset)
    finally:
        runtime.close()
    table = Table("doc_id", "version", "title", "source_uri", title=f"{total} documents")
    for row in rows:
        table.add_row(row.doc_id, str(row.current_version), row.title, row.source_uri)
    out.print(table)


@docs_app.command("show")
@one_line_errors
def documents_show(
    doc_id: str,
    tenant: str = typer.Option(..., "--tenant"),
    as_user: str | None = typer.Option(None, "--as-user", help=AS_USER_HELP),
) -> None:
    """Show a document's provenance: every readable version with hashes, timestamps and redaction counts."""
    runtime = runtime_for()
    try:
        allowed = acting_as(runtime, tenant, as_user).read
        document = runtime.documents.get(allowed, doc_id)
    finally:
        runtime.close()
    rows = [
        {
            "version": v.version,
            "content_sha256": v.content_sha256,
            "media_type": v.media_type,
            "chunks": v.chunk_count,
            "pages": v.page_count,
            "labels": v.labels,
            "redaction_counts": v.redaction_counts,
            "ingested_at": v.ingested_at,
            "source_updated_at": v.source_updated_at,
        }
        for v in document.versions
    ]
    body = {
        "doc_id": document.doc_id,
        "current_version": document.current_version,
        "title": document.title,
        "source_uri": document.source_uri,
        "versions": rows,
    }
    out.print_json(json.dumps(body, default=str))


@docs_app.command("text")
@one_line_errors
def documents_text(
    doc_id: str,
    version: int = typer.Option(..., "--version"),
    tenant: str = typer.Option(..., "--tenant"),
    start: int | None = typer.Option(None),
    end: int | None = typer.Option(None),
    as_user: str | None = typer.Option(None, "--as-user", help=AS_USER_HELP),
) -> None:
    """Print the stored (redacted) text of a version, or a character range of it."""
    for name, number in (("--version", version), ("--start", start), ("--end", end)):
        check_db_int(name, number, low=1 if name == "--version" else 0)
    runtime = runtime_for()
    try:
        allowed = acting_as(runtime, tenant, as_user).read
        text = runtime.documents.text(allowed, doc_id, version, start, end)
    finally:
        runtime.close()
    sys.stdout.write(text.text + "\n")


@docs_app.command("delete")
@one_line_errors
def documents_delete(
    doc_id: str,
    tenant: str = typer.Option(..., "--tenant"),
    as_user: str | None = typer.Option(None, "--as-user", help=AS_USER_HELP),
) -> None:
    """Delete a document everywhere: index, metadata, all versions."""
    runtime = runtime_for()
    try:
        decision = acting_as(runtime, tenant, as_user)
        check_writer(decision.write, "deleting documents")
        runtime.documents.authorize_delete(decision.read, decision.write, doc_id)
        removed = runtime.documents.delete(decision.tenant, doc_id)
    finally:
        runtime.close()
    out.print(f"deleted {doc_id} ({removed} chunks removed from the index)")


@jobs_app.command("show")
@one_line_errors
def jobs_show(
    job_id: str,
    tenant: str = typer.Option(..., "--tenant"),
    as_user: str | None = typer.Option(None, "--as-user", help=AS_USER_HELP),
) -> None:
    """Show an ingest job with the status of every item."""
    from ingest.jobs import JobService

    with services_for() as access:
        allowed = cli_acl.decision_for(access, tenant, as_user).read
        view = JobService(access.engine).get_readable(allowed, job_id)
    table = Table(
        "#",
        "name",
        "status",
        "doc_id",
        "version",
        "chunks",
        "error",
        title=f"{view.job.id}: {view.job.status}",
    )
    for item in view.items:
        table.add_row(
            str(item.position),
            item.name,
            item.status,
            item.doc_id or "",
            str(item.version or ""),
            str(item.chunks),
            item.error or "",
        )
    out.print(table)


eval_app.command("retrieval")(cli_eval.eval_retrieval)
app.command("demo")(cli_eval.demo)


def main() -> None:
    app()
