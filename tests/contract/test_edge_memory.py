"""The embedded engine keeps a shard where its memory setting says, and bounded-memory upkeep (capped
segments, reopening after index builds) leaves every point findable exactly as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval import edge
from retrieval.edge import EdgeMemory, EdgeVectorStore
from retrieval.ports import Hit
from tests.contract.test_vector_store import DIM, A, everyone, point, query


def _placements(shard_dir: Path) -> dict[str, object]:
    """What the engine recorded for the shard (it rewrites this file whenever a shard is loaded)."""
    config = json.loads((shard_dir / "edge_config.json").read_text())
    return {
        "dense": config["vectors"]["dense"]["memory"],
        "bm25": config["sparse_vectors"]["bm25"]["memory"],
        "hnsw": config["hnsw_config"]["memory"],
        "payload": config["payload_memory"],
        "max_segment_kb": config["optimizers"]["max_segment_size"],
    }


def _ranking(hits: list[Hit]) -> tuple[list[float], dict[float, set[str]]]:
    """Scores in order, and which chunks hold each score above the last one (equal scores may come in
    any order, and which of several tied at the cut-off make the top k is arbitrary)."""
    scores = [round(h.score, 5) for h in hits]
    tied: dict[float, set[str]] = {}
    for hit, score in zip(hits, scores, strict=True):
        if score != scores[-1]:
            tied.setdefault(score, set()).add(hit.payload.chunk_id)
    return scores, tied


def test_a_shard_is_placed_as_configured_and_a_new_setting_reaches_an_old_shard(tmp_path: Path) -> None:
    root = tmp_path / "shards"
    cold = EdgeVectorStore(root, dimension=DIM, memory=EdgeMemory("cold", max_segment_mb=8))
    cold.upsert(A, [point("doc-1", "the quick brown fox")])
    cold.close()
    assert _placements(root / A) == {
        "dense": "cold",
        "bm25": "cold",
        "hnsw": "cold",
        "payload": "cold",
        "max_segment_kb": 8 * 1024,
    }
    cached = EdgeVectorStore(root, dimension=DIM, memory=EdgeMemory("cached", max_segment_mb=16))
    [hit] = cached.search(A, query("quick brown fox"), allowed=everyone(A), k=3, candidates=10)
    assert hit.payload.doc_id == "doc-1"
    cached.close()
    assert _placements(root / A)["dense"] == "cached"
    assert _placements(root / A)["max_segment_kb"] == 16 * 1024


def test_the_memory_setting_refuses_what_it_cannot_mean() -> None:
    with pytest.raises(ValueError, match="placement must be 'cold' or 'cached', got 'hot'"):
        EdgeMemory("hot")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_segment_mb must be at least 1, got 0"):
        EdgeMemory(max_segment_mb=0)


def test_reopening_after_index_builds_keeps_results_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that optimises and reopens its shard every few writes answers like one that never does."""
    texts = [f"note {i} about {'alpha' if i % 3 else 'beta'} topic {i % 7} and more" for i in range(120)]
    points = [point(f"doc-{i}", text) for i, text in enumerate(texts)]
    monkeypatch.setattr(edge, "OPTIMIZE_EVERY", 10**9)
    plain = EdgeVectorStore(tmp_path / "plain", dimension=DIM)
    plain.upsert(A, points)
    monkeypatch.setattr(edge, "OPTIMIZE_EVERY", 10)
    monkeypatch.setattr(edge, "REOPEN_EVERY", 25)
    busy = EdgeVectorStore(tmp_path / "busy", dimension=DIM)
    for start in range(0, len(points), 10):
        busy.upsert(A, points[start : start + 10])
    opened = busy._shards[A].shard
    busy.upsert(A, points[:30])  # the same points again: still one each, and one more reopening
    assert busy._shards[A].shard is not opened
    assert busy.count(A) == plain.count(A) == len(points)
    for text in ("alpha topic 3", "beta topic 5 note", "more"):
        expected = plain.search(A, query(text), allowed=everyone(A), k=10, candidates=40)
        found = busy.search(A, query(text), allowed=everyone(A), k=10, candidates=40)
        assert _ranking(found) == _ranking(expected)
    plain.close()
    busy.close()
