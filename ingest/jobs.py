"""Ingest jobs: every item is recorded up front, then updated as the pipeline settles it.

A job that was queued or running when its process stopped is settled as interrupted: in embedded mode
on the next start (``fail_interrupted``: that process owned every job), and with several processes
(server mode) by any live process once the job's heartbeat is stale (``fail_stale``). Finished items
keep their status; nothing half-written remains because versions only become visible when their
transaction commits, and an indexed item is recorded in that same transaction, so a killed process
never leaves a published item marked as never processed.
"""

from __future__ import annotations

import functools
import logging
import secrets
import threading
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice

from sqlalchemy import Engine, delete, func, insert, or_, update
from sqlmodel import Session, col, select

from acl.filters import WriteGrant, normalise_labels
from core.access import AccessFilter
from core.clock import utcnow
from core.db import session_scope
from core.errors import NotFoundError
from core.types import TenantId
from ingest.document import Source
from ingest.models import IngestItem, IngestJob, ItemStatus, JobStatus
from ingest.pipeline import IngestPipeline, ItemOutcome
from ingest.sources import BadSource

log = logging.getLogger(__name__)
INTERRUPTED = "interrupted: the process stopped before this item was processed"
_OPEN = [JobStatus.QUEUED.value, JobStatus.RUNNING.value]
STALE_AFTER_BEATS = 6  # missed heartbeats before another process may settle a job
_INSERT_ROWS = 1000
FAILED_SHOWN = 1000  # failed items a job summary carries; the counts cover all of them


@dataclass(frozen=True)
class JobView:
    job: IngestJob
    items: list[IngestItem]

    def counts(self) -> dict[str, int]:
        tally = {status.value: 0 for status in ItemStatus}
        for item in self.items:
            tally[item.status] = tally.get(item.status, 0) + 1
        return tally


@dataclass(frozen=True)
class JobSummary:
    """A finished job's counts and its first failed items: what a command prints, in memory that does
    not grow with the job (a ``JobView`` holds every item row, about 1 kB each)."""

    job: IngestJob
    counts: dict[str, int]
    failed: list[IngestItem]


class JobService:
    def __init__(self, engine: Engine, pipeline: IngestPipeline | None = None) -> None:
        """Without a pipeline the service can only read and settle jobs (e.g. in a CLI next to a server)."""
        self._engine = engine
        self._pipeline = pipeline

    def create(
        self, tenant: TenantId, submitted_by: str, items: Sequence[Source | BadSource], labels: Sequence[str]
    ) -> str:
        job_id = "job_" + secrets.token_hex(10)
        with session_scope(self._engine) as session:
            session.add(
                IngestJob(
                    id=job_id,
                    tenant=tenant,
                    submitted_by=submitted_by,
                    labels=list(labels),
                    total=len(items),
                    created_at=utcnow(),
                    heartbeat_at=utcnow(),
                )
            )
            session.flush()  # the job row must exist before items reference it (PostgreSQL checks at once)
            # Plain rows in slices, not ORM objects: a session keeps every object it was given until
            # commit, which for a folder of 100k files is hundreds of MB.
            rows = (
                {
                    "job_id": job_id,
                    "position": i,
                    "name": item.name[:1000],
                    "doc_id": getattr(item, "doc_id", None),
                    "status": ItemStatus.QUEUED.value,
                    "chunks": 0,
                }
                for i, item in enumerate(items)
            )
            while batch := list(islice(rows, _INSERT_ROWS)):
                session.execute(insert(IngestItem), batch)
        return job_id

    def run(
        self,
        job_id: str,
        tenant: TenantId,
        items: Sequence[Source | BadSource],
        labels: Sequence[str],
        grant: WriteGrant,
        on_item: Callable[[ItemOutcome], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> JobSummary:
        if self._pipeline is None:
            raise RuntimeError("this JobService was built without a pipeline and cannot run jobs")
        self._set_status(job_id, JobStatus.RUNNING)
        try:
            settle = functools.partial(_settle, job_id=job_id)
            for outcome in self._pipeline.run(tenant, items, labels=labels, grant=grant, settle=settle):
                if outcome.status != ItemStatus.INDEXED:  # indexed ones were settled as they published
                    with session_scope(self._engine) as session:
                        _settle(session, outcome, job_id=job_id)
                if on_item is not None:
                    on_item(outcome)
                if should_stop():
                    break  # the rest is settled as interrupted below
        finally:
            self._close(job_id)
        return self.summary(tenant, job_id)

    def summary(self, tenant: TenantId, job_id: str) -> JobSummary:
        with session_scope(self._engine) as session:
            job = session.get(IngestJob, job_id)
            if job is None or job.tenant != tenant:
                raise NotFoundError(f"ingest job {job_id!r} not found")
            failed = session.exec(
                select(IngestItem)
                .where(IngestItem.job_id == job_id, IngestItem.status == ItemStatus.FAILED.value)
                .order_by(col(IngestItem.position))
                .limit(FAILED_SHOWN)
            ).all()
            return JobSummary(job, _status_counts(session, job_id), list(failed))

    def get(self, tenant: TenantId, job_id: str) -> JobView:
        with session_scope(self._engine) as session:
            job = session.get(IngestJob, job_id)
            if job is None or job.tenant != tenant:
                raise NotFoundError(f"ingest job {job_id!r} not found")
            items = session.exec(
                select(IngestItem).where(IngestItem.job_id == job_id).order_by(col(IngestItem.position))
            ).all()
            return JobView(job, list(items))

    def get_readable(self, allowed: AccessFilter, job_id: str) -> JobView:
        """A job as a reader of its tenant may see it: one whose labels the reader cannot read is a 404,
        as for another tenant. Every version a job wrote or found unchanged carries the job's labels
        (normalised as the pipeline does; the unchanged fingerprint includes them), so this one test
        covers each item's version number and chunk count; refused items carry neither."""
        view = self.get(allowed.tenant, job_id)
        if not allowed.allows(view.job.tenant, normalise_labels(view.job.labels)):
            raise NotFoundError(f"ingest job {job_id!r} not found")
        return view

    def fail_interrupted(self) -> int:
        with session_scope(self._engine) as session:
            ids = list(session.exec(select(IngestJob.id).where(col(IngestJob.status).in_(_OPEN))).all())
        for job_id in ids:
            self._close(job_id)
        return len(ids)

    def heartbeat(self, job_ids: Collection[str]) -> None:
        """Renew the lease of this process's open jobs."""
        if not job_ids:
            return
        with session_scope(self._engine) as session:
            session.execute(
                update(IngestJob)
                .where(col(IngestJob.id).in_(list(job_ids)), col(IngestJob.status).in_(_OPEN))
                .values(heartbeat_at=utcnow())
            )

    def fail_stale(self, max_age_s: float) -> int:
        """Settle open jobs whose process stopped renewing them ``max_age_s`` ago or more."""
        cutoff = utcnow() - timedelta(seconds=max_age_s)
        with session_scope(self._engine) as session:
            stale = session.exec(
                select(IngestJob.id).where(
                    col(IngestJob.status).in_(_OPEN),
                    or_(col(IngestJob.heartbeat_at).is_(None), col(IngestJob.heartbeat_at) < cutoff),
                )
            ).all()
        for job_id in stale:
            log.warning(
                "ingest job %s has had no heartbeat for %.0f s: settling it as interrupted", job_id, max_age_s
            )
            self._close(job_id)
        return len(stale)

    def forget_tenant(self, tenant: TenantId) -> None:
        """Remove every job record of a tenant (scratch tenants of evaluations)."""
        with session_scope(self._engine) as session:
            ids = list(session.exec(select(IngestJob.id).where(IngestJob.tenant == tenant)).all())
            if ids:
                session.execute(delete(IngestItem).where(col(IngestItem.job_id).in_(ids)))
                session.execute(delete(IngestJob).where(col(IngestJob.id).in_(ids)))

    def close(self, job_id: str) -> None:
        self._close(job_id)

    def _set_status(self, job_id: str, status: JobStatus) -> None:
        with session_scope(self._engine) as session:
            session.execute(update(IngestJob).where(col(IngestJob.id) == job_id).values(status=status.value))

    def _close(self, job_id: str) -> None:
        """Settle leftovers as interrupted and derive the job's status from its items."""
        with session_scope(self._engine) as session:
            session.execute(
                update(IngestItem)
                .where(col(IngestItem.job_id) == job_id, col(IngestItem.status) == ItemStatus.QUEUED.value)
                .values(status=ItemStatus.FAILED.value, error=INTERRUPTED)
            )
            counts = _status_counts(session, job_id)
            failed = counts[ItemStatus.FAILED.value]
            if failed == 0:
                final = JobStatus.SUCCEEDED
            elif failed == sum(counts.values()):
                final = JobStatus.FAILED
            else:
                final = JobStatus.PARTIAL
            session.execute(
                update(IngestJob)
                .where(col(IngestJob.id) == job_id)
                .values(status=final.value, finished_at=utcnow())
            )


def _status_counts(session: Session, job_id: str) -> dict[str, int]:
    """Items per status, counted by the database rather than by reading every row back."""
    tally = {status.value: 0 for status in ItemStatus}
    rows = session.execute(
        select(IngestItem.status, func.count()).where(IngestItem.job_id == job_id).group_by(IngestItem.status)
    ).all()
    for status, count in rows:
        tally[status] = int(count)
    return tally


def _settle(session: Session, outcome: ItemOutcome, *, job_id: str) -> None:
    """Record an item's outcome in the caller's transaction (for an indexed item, the one publishing it)."""
    session.execute(
        update(IngestItem)
        .where(col(IngestItem.job_id) == job_id, col(IngestItem.position) == outcome.position)
        .values(
            status=outcome.status.value,
            doc_id=outcome.doc_id,
            version=outcome.version,
            chunks=outcome.chunks,
            error=outcome.error,
        )
    )


class JobRunner:
    """Runs submitted jobs one at a time on a background thread of the API process.

    Every ``heartbeat_s`` it renews the lease of its open jobs and settles other processes' jobs
    whose lease ran out (``STALE_AFTER_BEATS`` beats): with several API processes, a job is never
    left ``running`` by one that died.
    """

    def __init__(self, jobs: JobService, *, heartbeat_s: float = 10.0) -> None:
        self._jobs = jobs
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-job")
        self._stop = threading.Event()
        self._submitted: dict[str, Future[None]] = {}
        self._heartbeat_s = heartbeat_s
        self._beats_stop = threading.Event()
        self._beats = threading.Thread(target=self._beat, name="ingest-heartbeat", daemon=True)
        self._beats.start()

    def _beat(self) -> None:
        while not self._beats_stop.wait(self._heartbeat_s):
            try:
                self._jobs.heartbeat(list(self._submitted))
                self._jobs.fail_stale(self._heartbeat_s * STALE_AFTER_BEATS)
            except Exception:  # a database hiccup must not end the heartbeat; the next beat retries
                log.warning("ingest job heartbeat failed", exc_info=True)

    def submit(
        self,
        job_id: str,
        tenant: TenantId,
        items: Sequence[Source | BadSource],
        labels: Sequence[str],
        grant: WriteGrant,
    ) -> Future[None]:
        """The future settles when the job has (or, cancelled at shutdown, never) run."""
        future = self._executor.submit(self._run, job_id, tenant, items, labels, grant)
        self._submitted[job_id] = future
        return future

    def _run(
        self,
        job_id: str,
        tenant: TenantId,
        items: Sequence[Source | BadSource],
        labels: Sequence[str],
        grant: WriteGrant,
    ) -> None:
        try:
            self._jobs.run(job_id, tenant, items, labels, grant, should_stop=self._stop.is_set)
        except Exception:
            log.exception("ingest job %s stopped on an unexpected error", job_id)
            self._settle_after_crash(job_id)
        finally:
            self._submitted.pop(job_id, None)

    def _settle_after_crash(self, job_id: str) -> None:
        """A job that failed before or outside its own settling must not stay queued while this process
        lives (its heartbeat would keep other processes from settling it): settle it now."""
        try:
            self._jobs.close(job_id)
        except Exception:
            log.warning("could not settle ingest job %s after its error", job_id, exc_info=True)

    def close(self) -> None:
        """Finish the item in progress, settle everything else of this process's jobs as interrupted."""
        self._beats_stop.set()
        self._beats.join()
        self._stop.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
        for job_id in list(self._submitted):
            self._jobs.close(job_id)
