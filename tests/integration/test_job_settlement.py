"""A job's item records agree with what was published, even when the process is killed mid-job."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, select

from core.types import TenantId
from ingest.jobs import INTERRUPTED
from ingest.models import IngestJob, ItemStatus
from provenance.models import DocumentVersion
from tests.conftest import RuntimeFactory

T = TenantId("acme")
ROOT = Path(__file__).resolve().parents[2]

# Runs a six-item job and kills its own process (SIGKILL: no handler, no finally runs) the moment the
# transaction that published the third document commits.
CHILD = """
import os, signal, sys
from pathlib import Path
from sqlalchemy import event
from sqlmodel import Session
from acl.filters import WriteGrant
from api.runtime import build_runtime
from core.settings import IngestSettings, Settings
from core.types import TenantId
from ingest.prepare import InlinePreparer
from provenance.models import DocumentVersion
from tests.support.fakes import FakeEmbedder, FakeRedactor
from tests.support.records import record

data_dir, url = sys.argv[1:3]

@event.listens_for(Session, "after_flush")
def notice(session, context):
    if any(isinstance(o, DocumentVersion) and o.doc_id == "k-2" for o in session.new):
        session.info["kill"] = True

@event.listens_for(Session, "after_commit")
def kill(session):
    if session.info.get("kill"):
        os.kill(os.getpid(), signal.SIGKILL)

settings = Settings(data_dir=Path(data_dir), database_url=url, ingest=IngestSettings(redaction_workers=0))
runtime = build_runtime(
    settings, embedder=lambda: FakeEmbedder(), preparer=lambda: InlinePreparer(FakeRedactor())
)
items = [record(f"k-{i}", f"document number {i} of a job that gets killed") for i in range(6)]
job_id = runtime.jobs.create(TenantId("acme"), "ann", items, labels=())
runtime.jobs.run(job_id, TenantId("acme"), items, (), WriteGrant.everything(TenantId("acme")))
"""


def test_items_published_before_a_kill_are_recorded_as_indexed(
    make_runtime: RuntimeFactory, database_url: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(data_dir), database_url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == -9, child.stderr
    runtime = make_runtime(database_url=database_url, data_dir=data_dir)  # the restart
    assert runtime.jobs.fail_interrupted() == 1
    with Session(runtime.engine) as session:
        job_id = session.exec(select(IngestJob.id)).one()
        published = {v.doc_id: v for v in session.exec(select(DocumentVersion))}
    assert {"k-0", "k-1", "k-2"} <= set(published)
    for item in runtime.jobs.get(T, job_id).items:
        stored = published.get(item.doc_id or "")
        if stored is None:
            assert (item.status, item.error) == (ItemStatus.FAILED, INTERRUPTED)
        else:
            assert (item.status, item.version, item.chunks) == (
                ItemStatus.INDEXED,
                stored.version,
                stored.chunk_count,
            )
            assert runtime.store.count(T, stored.doc_id) == stored.chunk_count  # nothing lost
