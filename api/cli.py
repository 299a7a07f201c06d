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

from acl import keys as api_keys
from acl.filters import access_filter, check_writer, normalise_labels, write_grant
from api import cli_eval
from api.cli_common import err, one_line_errors, out, run_with_progress, runtime_for
from api.params import check_db_int
from core.db import make_engine, migrate, session_scope
from core.errors import InvalidInputError
from core.metadata import check_metadata
from core.settings import Settings, get_settings
from core.types import Principal, tenant_id
from ingest.sources import discover
from retrieval.ports import SearchFilters
from retrieval.search import Mode, SearchRequest

app = typer.Typer(help="Tessera: tenant-isolated retrieval with provenance.", no_args_is_help=True)
keys_app = typer.Typer(help="Issue, list and revoke API keys.", no_args_is_help=True)
docs_app = typer.Typer(help="Inspect and delete documents.", no_args_is_help=True)
jobs_app = typer.Typer(help="Inspect ingest jobs.", no_args_is_help=True)
eval_app = typer.Typer(help="Offline evaluations.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
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
        grant = write_grant(_principal(tenant, OPERATOR_ROLES))
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
    roles: str = typer.Option("admin", help="search as a user with these roles (default: admin sees all)"),
    as_json: bool = typer.Option(False, "--json", help="print hits as JSON"),
    meta: list[str] = typer.Option(
        [],
        "--meta",
        help="KEY=VALUE: only documents whose metadata KEY equals VALUE (repeat a key for any of several). "
        "A whole number matches as an integer; quote it (KEY='\"42\"') to match the string.",
    ),
) -> None:
    """Search a tenant from the command line, with the same filters and re-checks as the API."""
    principal = _principal(tenant, roles)
    request = SearchRequest(
        query=query, k=k, mode=mode, filters=SearchFilters(metadata_any=_meta_filter(meta))
    )
    runtime = runtime_for()
    try:
        hits = runtime.search.search(access_filter(principal), request)
    finally:
        runtime.close()
    if as_json:
        rows = [_hit_json(h) for h in hits]
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


def _hit_json(hit: Any) -> dict[str, Any]:
    p = hit.payload
    return {
        "chunk_id": p.chunk_id,
        "doc_id": p.doc_id,
        "version": p.version,
        "title": p.title,
        "source_uri": p.source_uri,
        "score": hit.score,
        "text": p.text,
        "char_start": p.char_start,
        "char_end": p.char_end,
        "page": p.page,
        "labels": list(p.labels),
        "ingested_at": p.ingested_at,
        "source_updated_at": p.source_updated_at,
        "content_sha256": p.content_sha256,
        "metadata": p.metadata,
    }


OPERATOR_ROLES = "admin"
ROLES_HELP = "act as a user with these roles (default: admin, the operator, reads and writes all)"


def _principal(tenant: str, roles: str) -> Principal:
    """The CLI is the operator's tool on the machine itself: by default it acts as ``admin`` of the
    tenant; ``--roles`` shows what a user with those roles may see and do, by the API's own rule."""
    return Principal(tenant=tenant_id(tenant), user="cli", roles=frozenset(api_keys.parse_roles(roles)))


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


@keys_app.command("create")
@one_line_errors
def keys_create(
    tenant: str = typer.Option(..., "--tenant"),
    user: str = typer.Option(..., "--user"),
    roles: str = typer.Option("", "--roles", help="comma-separated roles, e.g. admin or finance,hr"),
) -> None:
    """Create an API key; it is printed once and only its hash is stored."""
    engine = _db()
    with session_scope(engine) as session:
        issued = api_keys.create_key(session, tenant, user, api_keys.parse_roles(roles))
    err.print(f"key {issued.key_id} for {issued.user}@{issued.tenant} roles={','.join(issued.roles) or '-'}")
    out.print(issued.token, highlight=False)


@keys_app.command("list")
@one_line_errors
def keys_list(tenant: str = typer.Option(..., "--tenant")) -> None:
    """List a tenant's keys (ids, users, roles; never secrets)."""
    engine = _db()
    with session_scope(engine) as session:
        rows = api_keys.list_keys(session, tenant_id(tenant))
    table = Table("id", "user", "roles", "created", "revoked")
    for row in rows:
        table.add_row(row.id, row.user, row.roles, str(row.created_at), str(row.revoked_at or ""))
    out.print(table)


@keys_app.command("revoke")
@one_line_errors
def keys_revoke(key_id: str, tenant: str = typer.Option(..., "--tenant")) -> None:
    """Revoke a key; requests with it fail from now on."""
    engine = _db()
    with session_scope(engine) as session:
        api_keys.revoke_key(session, tenant_id(tenant), key_id)
    out.print(f"revoked {key_id}")


@docs_app.command("list")
@one_line_errors
def documents_list(
    tenant: str = typer.Option(..., "--tenant"),
    limit: int = 100,
    offset: int = 0,
    roles: str = typer.Option(OPERATOR_ROLES, help=ROLES_HELP),
) -> None:
    """List a tenant's documents."""
    check_db_int("--offset", offset)
    allowed = access_filter(_principal(tenant, roles))
    runtime = runtime_for()
    try:
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
    roles: str = typer.Option(OPERATOR_ROLES, help=ROLES_HELP),
) -> None:
    """Show a document's provenance: every readable version with hashes, timestamps and redaction counts."""
    allowed = access_filter(_principal(tenant, roles))
    runtime = runtime_for()
    try:
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
    roles: str = typer.Option(OPERATOR_ROLES, help=ROLES_HELP),
) -> None:
    """Print the stored (redacted) text of a version, or a character range of it."""
    for name, number in (("--version", version), ("--start", start), ("--end", end)):
        check_db_int(name, number, low=1 if name == "--version" else 0)
    allowed = access_filter(_principal(tenant, roles))
    runtime = runtime_for()
    try:
        text = runtime.documents.text(allowed, doc_id, version, start, end)
    finally:
        runtime.close()
    sys.stdout.write(text.text + "\n")


@docs_app.command("delete")
@one_line_errors
def documents_delete(
    doc_id: str,
    tenant: str = typer.Option(..., "--tenant"),
    roles: str = typer.Option(OPERATOR_ROLES, help=ROLES_HELP),
) -> None:
    """Delete a document everywhere: index, metadata, all versions."""
    principal = _principal(tenant, roles)
    check_writer(principal, "deleting documents")
    runtime = runtime_for()
    try:
        runtime.documents.authorize_delete(access_filter(principal), write_grant(principal), doc_id)
        removed = runtime.documents.delete(principal.tenant, doc_id)
    finally:
        runtime.close()
    out.print(f"deleted {doc_id} ({removed} chunks removed from the index)")


@jobs_app.command("show")
@one_line_errors
def jobs_show(
    job_id: str,
    tenant: str = typer.Option(..., "--tenant"),
    roles: str = typer.Option(OPERATOR_ROLES, help=ROLES_HELP),
) -> None:
    """Show an ingest job with the status of every item."""
    from ingest.jobs import JobService

    allowed = access_filter(_principal(tenant, roles))
    engine = _db()
    view = JobService(engine).get_readable(allowed, job_id)
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
