from __future__ import annotations

import math

import pytest

from evals.metrics import ndcg_at_k, recall_at_k


def test_perfect_ranking_scores_one() -> None:
    assert ndcg_at_k(["a", "b", "c"], {"a": 2, "b": 1}, 10) == pytest.approx(1.0)


def test_ndcg_matches_the_textbook_formula() -> None:
    # relevant doc at rank 2 only: DCG = 1/log2(3), IDCG = 1/log2(2) = 1
    assert ndcg_at_k(["x", "a"], {"a": 1}, 10) == pytest.approx(1 / math.log2(3))


def test_hits_past_k_do_not_count() -> None:
    assert ndcg_at_k(["x", "y", "a"], {"a": 1}, 2) == 0.0
    assert recall_at_k(["x", "a", "b"], {"a": 1, "b": 1, "c": 1}, 2) == pytest.approx(1 / 3)


def test_queries_without_relevant_documents_score_zero() -> None:
    assert ndcg_at_k(["a"], {"a": 0}, 10) == 0.0
    assert recall_at_k(["a"], {}, 10) == 0.0
