"""An "unchanged" answer is given only when nothing would change: same source, labels and redaction
policy, and the current version's points all present in the engine; otherwise the item is re-indexed."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from acl.filters import WriteGrant
from core.db import session_scope
from core.settings import IngestSettings
from core.types import TenantId
from ingest.models import ItemStatus
from ingest.redact import REDACTION_POLICY_VERSION, NoRedactor
from provenance.models import DocumentVersion
from tests.conftest import RuntimeFactory
from tests.support.records import record

T = TenantId("acme")
OPERATOR = WriteGrant.everything(T)
DOCS = [record(f"d{i}", f"document number {i} with enough words") for i in range(3)]


def statuses(outcomes: object) -> list[ItemStatus]:
    return [o.status for o in sorted(outcomes, key=lambda o: o.position)]  # type: ignore[attr-defined]


def test_turning_redaction_on_reprocesses_documents_stored_without_it(
    make_runtime: RuntimeFactory, database_url: str
) -> None:
    plain = make_runtime(database_url=database_url, ingest=IngestSettings(redaction_workers=0, redact=False))
    assert statuses(plain.pipeline.run(T, DOCS, grant=OPERATOR)) == [ItemStatus.INDEXED] * 3
    assert statuses(plain.pipeline.run(T, DOCS, grant=OPERATOR)) == [ItemStatus.UNCHANGED] * 3
    plain.close()
    redacting = make_runtime(database_url=database_url, ingest=IngestSettings(redaction_workers=0))
    again = list(redacting.pipeline.run(T, DOCS, grant=OPERATOR))
    assert statuses(again) == [ItemStatus.INDEXED] * 3
    assert {o.version for o in again} == {2}
    with Session(redacting.engine) as session:
        policies = session.exec(select(DocumentVersion.version, DocumentVersion.redaction_policy)).all()
    assert sorted(policies) == [(1, NoRedactor.policy_version)] * 3 + [(2, REDACTION_POLICY_VERSION)] * 3
    assert statuses(redacting.pipeline.run(T, DOCS, grant=OPERATOR)) == [ItemStatus.UNCHANGED] * 3


def test_versions_stored_before_policies_were_recorded_count_as_changed(
    make_runtime: RuntimeFactory, database_url: str
) -> None:
    runtime = make_runtime(database_url=database_url)
    list(runtime.pipeline.run(T, DOCS, grant=OPERATOR))
    with session_scope(runtime.engine) as session:  # what migration 0004 leaves on older rows
        session.execute(
            update(DocumentVersion).where(col(DocumentVersion.doc_id) == "d1").values(redaction_policy="")
        )
    assert statuses(runtime.pipeline.run(T, DOCS, grant=OPERATOR)) == [
        ItemStatus.UNCHANGED,
        ItemStatus.INDEXED,
        ItemStatus.UNCHANGED,
    ]


def test_a_document_whose_points_went_missing_is_repaired_not_unchanged(
    make_runtime: RuntimeFactory, database_url: str
) -> None:
    runtime = make_runtime(database_url=database_url)
    list(runtime.pipeline.run(T, DOCS, grant=OPERATOR))
    with Session(runtime.engine) as session:
        lost = session.exec(select(DocumentVersion).where(DocumentVersion.doc_id == "d2")).one()
    runtime.store.delete_write(T, "d2", lost.write_id)  # e.g. a shard restored from an older backup
    outcomes = sorted(runtime.pipeline.run(T, DOCS, grant=OPERATOR), key=lambda o: o.position)
    assert statuses(outcomes) == [ItemStatus.UNCHANGED, ItemStatus.UNCHANGED, ItemStatus.INDEXED]
    assert runtime.store.count(T, "d2") == outcomes[2].chunks > 0
    assert statuses(runtime.pipeline.run(T, DOCS, grant=OPERATOR)) == [ItemStatus.UNCHANGED] * 3
