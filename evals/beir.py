"""Retrieval evaluation on a BEIR-format dataset, through the real ingest and search paths.

The corpus goes into a scratch tenant (dropped afterwards unless kept); each query is searched as an
admin of that tenant; chunk hits collapse to documents (``Aggregation``).
"""

from __future__ import annotations

import csv
import json
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from acl.filters import WriteGrant
from core.access import AccessFilter
from core.errors import InvalidInputError
from core.types import TenantId
from evals.metrics import mean, ndcg_at_k, recall_at_k
from ingest.document import Source
from ingest.pipeline import IngestPipeline, ItemOutcome
from ingest.sources import BadSource, read_jsonl
from retrieval.ports import Hit
from retrieval.search import Mode, SearchRequest, SearchService


@dataclass(frozen=True)
class BeirDataset:
    corpus: Path
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


@dataclass(frozen=True)
class ModeResult:
    mode: Mode
    ndcg_at_10: float
    recall_at_100: float
    queries: int
    run: dict[str, list[tuple[str, float]]]


def load(directory: Path, split: str) -> BeirDataset:
    corpus = directory / "corpus.jsonl"
    qrels_path = directory / "qrels" / f"{split}.tsv"
    candidates = [directory / f"queries_{split}.jsonl", directory / "queries.jsonl"]
    queries_path = next((p for p in candidates if p.exists()), None)
    for required in (corpus, qrels_path):
        if not required.exists():
            raise InvalidInputError(f"BEIR directory lacks {required.relative_to(directory)}")
    if queries_path is None:
        raise InvalidInputError(f"BEIR directory lacks queries_{split}.jsonl or queries.jsonl")
    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    queries = {}
    for line in queries_path.read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            if str(record["_id"]) in qrels:
                queries[str(record["_id"])] = str(record["text"])
    return BeirDataset(corpus, queries, qrels)


def scratch_tenant() -> TenantId:
    return TenantId("eval_" + secrets.token_hex(4))


def corpus_items(dataset: BeirDataset) -> list[Source | BadSource]:
    return list(read_jsonl(dataset.corpus.read_bytes(), dataset.corpus.name))


def ingest_corpus(
    pipeline: IngestPipeline, tenant: TenantId, items: list[Source | BadSource]
) -> Iterator[ItemOutcome]:
    return pipeline.run(tenant, items, grant=WriteGrant.everything(tenant))  # a scratch tenant of our own


CHUNK_DEPTH = 400  # chunk hits fetched per query; several chunks of one document count once
RANKED_DOCUMENTS = 100


@dataclass(frozen=True)
class Aggregation:
    """How a document's chunk hits make its score: the sum of its ``top`` best chunk scores.

    ``top=1`` is the best chunk alone; a larger ``top`` rewards documents matching in several places.
    """

    top: int = 1

    def __post_init__(self) -> None:
        if self.top < 1:
            raise ValueError(f"aggregation needs top >= 1, got {self.top}")


def rank_documents(hits: Sequence[Hit], aggregation: Aggregation) -> list[tuple[str, float]]:
    """Documents by aggregated score, best first; ties keep the order of their best chunk."""
    scores: dict[str, list[float]] = {}
    for hit in hits:  # hits arrive best first, so each list is sorted and dicts keep first-seen order
        scores.setdefault(hit.payload.doc_id, []).append(hit.score)
    totals = {doc: sum(chunk_scores[: aggregation.top]) for doc, chunk_scores in scores.items()}
    return sorted(totals.items(), key=lambda item: item[1], reverse=True)


BEST_CHUNK = Aggregation(top=1)


def evaluate(
    search: SearchService,
    tenant: TenantId,
    dataset: BeirDataset,
    mode: Mode,
    *,
    depth: int = CHUNK_DEPTH,
    aggregation: Aggregation = BEST_CHUNK,
    on_query: Callable[[], None] | None = None,
) -> ModeResult:
    allowed = AccessFilter.everything(tenant)
    hits: dict[str, list[Hit]] = {}
    for query_id, text in dataset.queries.items():
        hits[query_id] = search.search(allowed, SearchRequest(query=text, k=depth, mode=mode))
        if on_query is not None:
            on_query()
    return score(dataset, mode, hits, aggregation)


def score(
    dataset: BeirDataset, mode: Mode, hits: dict[str, list[Hit]], aggregation: Aggregation
) -> ModeResult:
    """nDCG@10 and Recall@100 of each query's chunk hits, collapsed to documents."""
    run: dict[str, list[tuple[str, float]]] = {}
    ndcgs: list[float] = []
    recalls: list[float] = []
    for query_id, query_hits in hits.items():
        ranked = rank_documents(query_hits, aggregation)[:RANKED_DOCUMENTS]
        run[query_id] = ranked
        ids = [doc for doc, _ in ranked]
        ndcgs.append(ndcg_at_k(ids, dataset.qrels[query_id], 10))
        recalls.append(recall_at_k(ids, dataset.qrels[query_id], 100))
    return ModeResult(mode, mean(ndcgs), mean(recalls), len(ndcgs), run)


def write_trec_run(path: Path, results: list[ModeResult]) -> None:
    """TREC run format: ``qid Q0 docid rank score run_name``, one block per mode."""
    with path.open("w") as handle:
        for result in results:
            for query_id, ranked in result.run.items():
                for rank, (doc_id, score) in enumerate(ranked, start=1):
                    handle.write(f"{query_id} Q0 {doc_id} {rank} {score:.6f} tessera-{result.mode.value}\n")
