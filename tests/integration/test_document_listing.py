"""Listing documents pages in the database with the caller's label rule, on SQLite and PostgreSQL."""

from __future__ import annotations

from acl.filters import WriteGrant
from core.access import EVERY_LABEL, AccessFilter
from core.types import TenantId
from tests.conftest import RuntimeFactory
from tests.integration.test_pipeline import record

T = TenantId("acme")
OPERATOR = WriteGrant.everything(T)
LABELS = [["public"], ["hr"], ["finance"], ["hr", "finance"], ["legal"]]


def test_pages_hold_exactly_the_readable_documents_in_id_order(
    make_runtime: RuntimeFactory, database_url: str
) -> None:
    runtime = make_runtime(database_url=database_url)
    expected_for: dict[frozenset[str] | None, list[str]] = {}
    for i in range(15):
        labels = LABELS[i % len(LABELS)]
        list(
            runtime.pipeline.run(
                T, [record(f"doc-{i:02d}", f"text number {i}")], labels=labels, grant=OPERATOR
            )
        )
    every = sorted(f"doc-{i:02d}" for i in range(15))
    for readable in (None, frozenset({"public"}), frozenset({"public", "hr"}), frozenset({"nobody"})):
        expected_for[readable] = [
            d for i, d in enumerate(every) if readable is None or readable & set(LABELS[i % len(LABELS)])
        ]
    for readable, expected in expected_for.items():
        allowed = AccessFilter(T, EVERY_LABEL if readable is None else readable)
        pages, offset = [], 0
        while True:
            total, page = runtime.documents.list(allowed, limit=4, offset=offset)
            assert total == len(expected)
            if not page:
                break
            pages += [d.doc_id for d in page]
            offset += 4
        assert pages == expected, readable


def test_another_tenants_documents_are_never_listed(make_runtime: RuntimeFactory, database_url: str) -> None:
    runtime = make_runtime(database_url=database_url)
    list(
        runtime.pipeline.run(
            TenantId("other"), [record("theirs", "not yours")], grant=WriteGrant.everything(TenantId("other"))
        )
    )
    assert runtime.documents.list(AccessFilter.everything(T), limit=10, offset=0) == (0, [])
