"""Open jobs of a process that died are settled as interrupted, never left running."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col

from acl.filters import WriteGrant
from api.runtime import Runtime
from core.clock import utcnow
from core.db import session_scope
from core.types import TenantId
from ingest import jobs as jobs_module
from ingest.document import Source
from ingest.jobs import INTERRUPTED, JobRunner
from ingest.models import IngestJob, ItemStatus, JobStatus
from ingest.sources import BadSource
from tests.conftest import RuntimeFactory
from tests.integration.test_pipeline import record

T = TenantId("acme")


def _open_job(runtime: Runtime, *, beat_age_s: float) -> str:
    """A job some process accepted and started, whose last heartbeat is ``beat_age_s`` old."""
    job_id = runtime.jobs.create(T, "ann", [record("a", "first"), record("b", "second")], labels=())
    with session_scope(runtime.engine) as session:
        session.execute(
            update(IngestJob)
            .where(col(IngestJob.id) == job_id)
            .values(status=JobStatus.RUNNING.value, heartbeat_at=utcnow() - timedelta(seconds=beat_age_s))
        )
    return job_id


def test_a_job_without_a_recent_heartbeat_is_settled_and_a_live_one_is_not(
    make_runtime: RuntimeFactory, database_url: str
) -> None:
    runtime = make_runtime(database_url=database_url)
    jobs = runtime.jobs
    dead, alive = _open_job(runtime, beat_age_s=120), _open_job(runtime, beat_age_s=5)
    assert jobs.fail_stale(60) == 1
    settled = jobs.get(T, dead)
    assert settled.job.status == JobStatus.FAILED and settled.job.finished_at is not None
    assert {(i.status, i.error) for i in settled.items} == {(ItemStatus.FAILED, INTERRUPTED)}
    assert jobs.get(T, alive).job.status == JobStatus.RUNNING


def test_a_heartbeat_renews_only_open_jobs(make_runtime: RuntimeFactory, database_url: str) -> None:
    runtime = make_runtime(database_url=database_url)
    jobs = runtime.jobs
    job_id = _open_job(runtime, beat_age_s=120)
    jobs.heartbeat([job_id])
    assert jobs.fail_stale(60) == 0
    jobs.close(job_id)
    finished_beat = jobs.get(T, job_id).job.heartbeat_at
    jobs.heartbeat([job_id])
    assert jobs.get(T, job_id).job.heartbeat_at == finished_beat


def test_a_runner_settles_another_process_s_dead_job(make_runtime: RuntimeFactory, database_url: str) -> None:
    runtime = make_runtime(database_url=database_url)
    jobs = runtime.jobs
    dead = _open_job(runtime, beat_age_s=3600)
    runner = JobRunner(jobs, heartbeat_s=0.05)
    try:
        deadline = time.monotonic() + 10
        while jobs.get(T, dead).job.status == JobStatus.RUNNING and time.monotonic() < deadline:
            time.sleep(0.02)
        assert jobs.get(T, dead).job.status == JobStatus.FAILED
    finally:
        runner.close()


def test_on_restart_the_embedded_owner_settles_every_open_job(
    make_runtime: RuntimeFactory, database_url: str
) -> None:
    runtime = make_runtime(database_url=database_url)
    jobs = runtime.jobs
    job_id = _open_job(runtime, beat_age_s=0)
    assert jobs.fail_interrupted() == 1
    assert jobs.get(T, job_id).job.status == JobStatus.FAILED


def test_a_finished_job_s_summary_counts_every_item_and_carries_the_first_failures(
    make_runtime: RuntimeFactory, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``tessera ingest`` prints comes from counts in the database, not from every item row."""
    monkeypatch.setattr(jobs_module, "FAILED_SHOWN", 2)
    runtime = make_runtime(database_url=database_url)
    items: list[Source | BadSource] = [record("a", "first note")]
    items += [BadSource(f"broken-{i}.txt", f"reason {i}") for i in range(3)]
    items.append(record("b", "second note"))
    job_id = runtime.jobs.create(T, "ann", items, labels=())
    summary = runtime.jobs.run(job_id, T, items, (), WriteGrant.everything(T))
    assert summary.job.status == JobStatus.PARTIAL
    assert summary.counts == {"queued": 0, "indexed": 2, "unchanged": 0, "failed": 3}
    assert [(i.name, i.error) for i in summary.failed] == [
        ("broken-0.txt", "reason 0"),
        ("broken-1.txt", "reason 1"),
    ]
