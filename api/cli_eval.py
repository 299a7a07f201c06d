"""``tessera eval retrieval`` and ``tessera demo``: the two commands that run whole workflows."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from acl.admin import Actor
from acl.filters import WriteGrant
from api.cli_common import err, one_line_errors, out, run_with_progress, runtime_for
from core.db import session_scope
from core.settings import get_settings
from core.types import tenant_id
from evals import beir
from ingest.models import ItemStatus
from ingest.sources import discover
from provenance import store as docs
from retrieval.search import Mode

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "corpus"


@one_line_errors
def eval_retrieval(
    beir_dir: Path = typer.Option(..., "--beir", exists=True, file_okay=False, help="BEIR dataset directory"),
    split: str = typer.Option("test", help="qrels split: qrels/<split>.tsv"),
    mode: str = typer.Option("all", help="hybrid, dense, bm25 or all"),
    save_run: Path | None = typer.Option(
        None, "--save-run", help="write the ranked lists in TREC run format"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the figures as JSON"),
    keep: bool = typer.Option(False, help="keep the scratch tenant instead of dropping it"),
) -> None:
    """Ingest a BEIR dataset into a scratch tenant and print nDCG@10 and Recall@100."""
    modes = list(Mode) if mode == "all" else [Mode(mode)]
    dataset = beir.load(beir_dir, split)
    tenant = beir.scratch_tenant()
    items = beir.corpus_items(dataset)
    # Chunks collapse into documents, so fetch more chunks than the 100 documents Recall@100 looks at.
    base = get_settings()
    settings = base.model_copy(update={"search": base.search.model_copy(update={"max_k": beir.CHUNK_DEPTH})})
    runtime = runtime_for(settings, owner="tessera eval")
    try:
        job_id = runtime.jobs.create(tenant, "eval", items, ())
        view = run_with_progress(runtime, job_id, tenant, items, (), WriteGrant.everything(tenant))
        failed = view.counts[ItemStatus.FAILED.value]
        results = []
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=err) as progress:
            for m in modes:
                task = progress.add_task(f"searching ({m.value})", total=len(dataset.queries))
                advance = _advancer(progress, task)
                results.append(beir.evaluate(runtime.search, tenant, dataset, m, on_query=advance))
    finally:
        if not keep:
            runtime.store.drop_tenant(tenant)
            with session_scope(runtime.engine) as session:
                docs.delete_tenant(session, tenant)
            runtime.jobs.forget_tenant(tenant)
        runtime.close()
    if save_run is not None:
        beir.write_trec_run(save_run, results)
    summary = {
        "dataset": str(beir_dir),
        "split": split,
        "documents": len(items),
        "failed_documents": failed,
        "queries": len(dataset.queries),
        "tenant": tenant if keep else None,
        "results": {
            r.mode.value: {"ndcg@10": round(r.ndcg_at_10, 4), "recall@100": round(r.recall_at_100, 4)}
            for r in results
        },
    }
    if as_json:
        out.print_json(json.dumps(summary))
        return
    for r in results:
        out.print(
            f"{r.mode.value:>6}  nDCG@10 {r.ndcg_at_10:.4f}  "
            f"Recall@100 {r.recall_at_100:.4f}  ({r.queries} queries)"
        )


def _advancer(progress: Progress, task: TaskID) -> Callable[[], None]:
    return lambda: progress.advance(task)


@one_line_errors
def demo(
    tenant: str = typer.Option("demo", "--tenant"),
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
    serve: bool = typer.Option(True, help="start the API after ingesting"),
) -> None:
    """Ingest the shipped example corpus, issue an admin key, then serve the API."""
    checked = tenant_id(tenant)
    items = list(discover([EXAMPLES]))
    runtime = runtime_for(owner="tessera demo")
    try:
        job_id = runtime.jobs.create(checked, "demo", items, ())
        view = run_with_progress(runtime, job_id, checked, items, (), WriteGrant.everything(checked))
        actor = Actor(checked, "demo")
        issued = runtime.admin.issue_key(actor, f"demo-{secrets.token_hex(2)}", roles=("admin",))
    finally:
        runtime.close()
    counts = view.counts
    out.print(
        f"example corpus: {counts['indexed']} indexed, {counts['unchanged']} unchanged, "
        f"{counts['failed']} failed"
    )
    out.print(f"admin key for tenant {checked!r} (shown once):\n  {issued.token}", highlight=False)
    out.print(
        f"try:  curl -s -H 'Authorization: Bearer {issued.token}' -H 'Content-Type: application/json' "
        f'-d \'{{"query": "how do I rotate credentials"}}\' http://{host}:{port}/v1/search',
        highlight=False,
        soft_wrap=True,
    )
    if serve:
        import uvicorn

        from api.app import create_app

        uvicorn.run(create_app(get_settings()), host=host, port=port, log_level="info")
